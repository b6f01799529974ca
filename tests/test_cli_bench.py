"""``labelpilot bench effort`` on the bundled sample: the result file, its report and its plot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from labelpilot.cli import app

FIELDS = {
    "seconds",
    "gt_shapes",
    "delivered_shapes",
    "passing_shapes",
    "recall",
    "precision",
    "seconds_per_passing_shape",
    "shapes_per_euro",
    "ratio_to_baseline",
    "passes_quality_bar",
}


def test_bench_effort_writes_json_markdown_and_plot(sample_dir: Path, tmp_path: Path) -> None:
    out, report, plot = tmp_path / "effort.json", tmp_path / "effort.md", tmp_path / "effort.png"
    args = ["bench", "effort", "--dataset", "kitti-tracking", "--root", str(sample_dir / "kitti-tracking")]
    args += ["--sequences", "0", "--workflows", "frame_by_frame,guided"]
    args += ["--json", str(out), "--markdown", str(report), "--plot", str(plot)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert (data["dataset"], data["auto_labels"], data["wage_eur_per_hour"]) == (
        "kitti-tracking",
        "pointrcnn",
        25.0,
    )
    assert set(data["sequences"]) == {"0000"}
    for section in (data["overall"], data["sequences"]["0000"]):
        assert set(section["workflows"]) == {"frame_by_frame", "guided"}
        for figures in section["workflows"].values():
            assert set(figures) >= FIELDS
            assert FIELDS - {"ratio_to_baseline"} <= set(figures["stationary"]) & set(figures["moving"])
            assert sum(figures["seconds_by_action"].values()) == pytest.approx(figures["seconds"], abs=0.05)
    baseline = data["overall"]["workflows"]["frame_by_frame"]
    guided = data["overall"]["workflows"]["guided"]
    # Stepping frame by frame looks at every shape and corrects it: nothing is left failing.
    assert (baseline["recall"], baseline["precision"], baseline["ratio_to_baseline"]) == (1.0, 1.0, 1.0)
    assert baseline["gt_shapes"] == guided["gt_shapes"] > 500
    assert guided["ratio_to_baseline"] == round(guided["shapes_per_euro"] / baseline["shapes_per_euro"], 3)
    assert data["goals"][0]["name"] == "guided vs frame_by_frame"
    text = report.read_text()
    assert "guided" in text and "frame_by_frame" in text
    with Image.open(plot) as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_bench_effort_names_what_is_wrong(sample_dir: Path, tmp_path: Path) -> None:
    root = str(sample_dir / "kitti-tracking")
    out = str(tmp_path / "x.json")
    runner = CliRunner()
    unknown = runner.invoke(
        app,
        [
            "bench",
            "effort",
            "--dataset",
            "kitti-tracking",
            "--root",
            root,
            "--sequences",
            "0042",
            "--json",
            out,
        ],
    )
    assert unknown.exit_code == 2 and "0042" in unknown.output
    av2 = runner.invoke(
        app,
        [
            "bench",
            "effort",
            "--dataset",
            "av2",
            "--root",
            str(sample_dir / "argoverse2"),
            "--auto-labels",
            "pointrcnn",
            "--json",
            out,
        ],
    )
    assert av2.exit_code == 2 and "tracker" in av2.output
    assert not Path(out).exists()
