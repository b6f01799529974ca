"""The effort result as Markdown and PNG: every figure shows up, formatted by the rules, and the plot is real."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from labelpilot.effort.render import MISSING, markdown_report, plot_report, ratio_text

WORKFLOWS = ("frame_by_frame", "keyframes_sensor_frame", "guided")
ACTIONS = (
    "inspect",
    "next_frame",
    "draw_cuboid",
    "move",
    "rotate",
    "resize",
    "jump_to_frame",
    "next_item",
    "accept",
)
LIGHTGREY = (211, 211, 211)  # matplotlib's "lightgrey", the face of bars that fail the quality bar


def _figures(
    seconds: float,
    shapes: tuple[int, int, int],
    recall: float | None,
    precision: float | None,
    seconds_per_passing_shape: float | None,
    shapes_per_euro: float | None,
    ratio: float | None,
    passes: bool,
) -> dict[str, Any]:
    gt, delivered, passing = shapes
    return {
        "seconds": seconds,
        "gt_shapes": gt,
        "delivered_shapes": delivered,
        "passing_shapes": passing,
        "recall": recall,
        "precision": precision,
        "seconds_per_passing_shape": seconds_per_passing_shape,
        "shapes_per_euro": shapes_per_euro,
        "ratio_to_baseline": ratio,
        "passes_quality_bar": passes,
    }


def _result() -> dict[str, Any]:
    frame_by_frame = _figures(8157.46, (3030, 3030, 3030), 1.0, 1.0, 2.692, 53.487, 1.0, True)
    frame_by_frame["stationary"] = _figures(3900.0, (1400, 1400, 1400), 1.0, 1.0, 2.786, 51.692, 1.0, True)
    frame_by_frame["moving"] = _figures(4257.45, (1630, 1630, 1630), 1.0, 1.0, 2.612, 55.132, 1.0, True)
    frame_by_frame["seconds_by_action"] = {
        "inspect": 4090.5,
        "next_frame": 600.0,
        "draw_cuboid": 1802.36,
        "move": 1200.0,
        "rotate": 300.0,
        "resize": 164.6,
    }
    # Fails the bar: recall and precision below 0.95; its stationary objects never pass at all.
    keyframes = _figures(5000.0, (3030, 2950, 2760), 0.9109, 0.9356, 1.812, 79.488, 1.486, False)
    keyframes["stationary"] = _figures(2100.0, (1400, 1380, 0), 0.0, 0.0, None, 0.0, 0.0, False)
    keyframes["moving"] = _figures(2900.0, (1630, 1570, 1560), 0.9571, 0.9936, 1.859, 77.462, 1.405, True)
    keyframes["seconds_by_action"] = {
        "inspect": 2500.0,
        "jump_to_frame": 1300.0,
        "move": 900.0,
        "draw_cuboid": 300.0,
    }
    guided = _figures(4300.0, (3030, 3010, 2930), 0.967, 0.9734, 1.468, 98.121, 1.834, True)
    guided["stationary"] = _figures(1500.0, (1400, 1395, 1390), 0.9929, 0.9964, 1.079, 133.44, 2.581, True)
    guided["moving"] = _figures(2800.0, (1630, 1615, 1540), 0.9448, 0.9536, 1.818, 79.2, 1.437, False)
    guided["seconds_by_action"] = {
        "inspect": 1800.0,
        "next_item": 600.0,
        "accept": 300.0,
        "move": 1100.0,
        "jump_to_frame": 500.0,
    }
    sequence_0001 = {
        "frame_by_frame": _figures(2000.0, (700, 700, 700), 1.0, 1.0, 2.857, 50.4, 1.0, True),
        "guided": _figures(1000.0, (700, 690, 680), 0.9714, 0.9855, 1.471, 97.92, 1.943, True),
    }
    # A sequence without ground truth of one kind: nothing is defined for guided there.
    sequence_0002 = {
        "frame_by_frame": _figures(0.0, (0, 0, 0), None, None, None, None, None, False),
        "guided": _figures(12.5, (0, 3, 0), None, 0.0, None, 0.0, None, False),
    }
    return {
        "benchmark": "effort",
        "dataset": "kitti-tracking",
        "auto_labels": "pointrcnn",
        "wage_eur_per_hour": 25.0,
        "overall": {
            "workflows": {
                "frame_by_frame": frame_by_frame,
                "keyframes_sensor_frame": keyframes,
                "guided": guided,
            }
        },
        "sequences": {"0001": {"workflows": sequence_0001}, "0002": {"workflows": sequence_0002}},
        "goals": [
            {
                "name": "guided vs frame_by_frame",
                "target": 10.0,
                "value": 1.834,
                "met": False,
                "note": "needs fewer looks per object",
            },
            {"name": "guided recall", "target": 0.95, "value": 0.967, "met": True, "note": ""},
            {
                "name": "guided_without_auto_labels vs frame_by_frame",
                "target": 3.0,
                "value": None,
                "met": None,
            },
        ],
    }


def _section(markdown: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match, f"no section {heading!r}"
    return match.group(1)


def _table(markdown: str, heading: str) -> list[dict[str, str]]:
    lines = [line for line in _section(markdown, heading).splitlines() if line.startswith("|")]
    headers = [cell.strip() for cell in lines[0].strip("|").split("|")]
    assert set(lines[1]) <= {"|", "-"}
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert all(len(row) == len(headers) for row in rows)
    return [dict(zip(headers, row, strict=True)) for row in rows]


def _by_workflow(rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    return {row["workflow"]: row for row in rows}


def test_heading_names_dataset_auto_labels_and_wage() -> None:
    first_line = markdown_report(_result()).splitlines()[0]
    assert first_line.startswith("# ")
    assert "kitti-tracking" in first_line
    assert "pointrcnn" in first_line
    assert "25.00 EUR/hour" in first_line


def test_every_workflow_and_action_appears() -> None:
    markdown = markdown_report(_result())
    for name in WORKFLOWS:
        assert name in markdown
    time_rows = {row["action"] for row in _table(markdown, "Where the time goes")}
    assert time_rows == {*ACTIONS, "total"}


def test_overall_table_rows_in_the_dicts_order_with_figures() -> None:
    rows = _table(markdown_report(_result()), "Overall")
    assert [row["workflow"] for row in rows] == list(WORKFLOWS)
    baseline = rows[0]
    assert baseline["seconds"] == "8,157.5"
    assert (baseline["GT shapes"], baseline["delivered"], baseline["passing"]) == ("3,030", "3,030", "3,030")
    assert (baseline["recall"], baseline["precision"]) == ("1.000", "1.000")
    assert baseline["s per passing shape"] == "2.69"
    assert baseline["shapes per EUR"] == "53.5"


def test_ratios_count_only_for_workflows_that_pass_the_bar() -> None:
    markdown = markdown_report(_result())
    overall = _by_workflow(_table(markdown, "Overall"))
    assert overall["frame_by_frame"]["ratio to frame_by_frame"] == "1.00x"
    assert overall["guided"]["ratio to frame_by_frame"] == "1.83x"
    assert overall["keyframes_sensor_frame"]["ratio to frame_by_frame"] == "(1.49x, fails bar)"
    assert [row["quality bar"] for row in overall.values()] == ["✓", "✗", "✓"]
    # The bar is judged per kind of object too: guided fails it on moving objects only.
    moving = _by_workflow(_table(markdown, "Moving objects"))
    stationary = _by_workflow(_table(markdown, "Stationary objects"))
    assert moving["guided"]["ratio to frame_by_frame"] == "(1.44x, fails bar)"
    assert moving["keyframes_sensor_frame"]["ratio to frame_by_frame"] == "1.41x"
    assert stationary["guided"]["ratio to frame_by_frame"] == "2.58x"
    assert stationary["keyframes_sensor_frame"]["ratio to frame_by_frame"] == "(0.00x, fails bar)"


def test_ratio_text_of_undefined_ratio_is_a_dash_even_when_failing() -> None:
    assert ratio_text({"ratio_to_baseline": None, "passes_quality_bar": False}) == MISSING
    assert ratio_text({"ratio_to_baseline": 12.345, "passes_quality_bar": True}) == "12.35x"


def test_none_renders_as_a_dash() -> None:
    markdown = markdown_report(_result())
    stationary = _by_workflow(_table(markdown, "Stationary objects"))
    assert stationary["keyframes_sensor_frame"]["s per passing shape"] == MISSING
    sequences = {(row["sequence"], row["workflow"]): row for row in _table(markdown, "Per sequence")}
    empty = sequences[("0002", "frame_by_frame")]
    assert (empty["ratio"], empty["recall"], empty["precision"]) == (MISSING, MISSING, MISSING)
    assert sequences[("0002", "guided")]["precision"] == "0.000"
    assert "None" not in markdown


def test_time_shares_sum_to_one_hundred_percent_per_workflow() -> None:
    result = _result()
    rows = _table(markdown_report(result), "Where the time goes")
    action_rows = [row for row in rows if row["action"] != "total"]
    for name in WORKFLOWS:
        spent = result["overall"]["workflows"][name]["seconds_by_action"]
        shares = []
        for row in action_rows:
            if row["action"] not in spent:
                assert row[name] == MISSING
                continue
            match = re.fullmatch(r"([\d,]+\.\d) s \((\d+\.\d) %\)", row[name])
            assert match, row[name]
            assert float(match.group(1).replace(",", "")) == pytest.approx(spent[row["action"]], abs=0.05)
            shares.append(float(match.group(2)))
        assert len(shares) == len(spent)
        assert sum(shares) == pytest.approx(100.0, abs=0.05 * len(shares))
    # Most expensive action over all workflows first.
    assert action_rows[0]["action"] == "inspect"
    assert action_rows[0]["guided"] == "1,800.0 s (41.9 %)"


def test_goals_list_met_and_not_met() -> None:
    goals = _section(markdown_report(_result()), "Goals")
    lines = [line for line in goals.splitlines() if line.startswith("- ")]
    assert len(lines) == 3
    assert "guided vs frame_by_frame" in lines[0]
    assert "not met" in lines[0]
    assert "needs fewer looks per object" in lines[0]
    assert "1.834 (target 10)" in lines[0]
    assert lines[1].endswith("0.967 (target 0.95) — met")
    assert lines[2].endswith(f"{MISSING} (target 3) — {MISSING}")


def test_per_sequence_table() -> None:
    rows = _table(markdown_report(_result()), "Per sequence")
    assert [(row["sequence"], row["workflow"]) for row in rows] == [
        ("0001", "frame_by_frame"),
        ("0001", "guided"),
        ("0002", "frame_by_frame"),
        ("0002", "guided"),
    ]
    assert rows[1]["ratio"] == "1.94x"
    assert (rows[1]["recall"], rows[1]["precision"]) == ("0.971", "0.986")


def test_result_without_sequences_or_goals_still_renders(tmp_path: Path) -> None:
    result = _result()
    result["sequences"] = {}
    result["goals"] = []
    markdown = markdown_report(result)
    assert _table(markdown, "Per sequence") == []
    assert "No goals were set." in _section(markdown, "Goals")
    plot_report(result, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").stat().st_size > 0


def _pixels(path: Path) -> Image.Image:
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.load()
        return image.convert("RGB")


def test_plot_is_a_real_png_that_follows_the_data(tmp_path: Path) -> None:
    first = tmp_path / "first.png"
    plot_report(_result(), first)
    assert first.stat().st_size > 0
    image = _pixels(first)
    assert image.width > 0
    assert image.height > 0
    colours = image.getcolors(maxcolors=image.width * image.height)
    assert colours is not None
    assert len(colours) > 10

    changed = copy.deepcopy(_result())
    guided = changed["overall"]["workflows"]["guided"]
    guided["shapes_per_euro"] = 400.0
    guided["seconds_by_action"]["inspect"] = 100.0
    second = tmp_path / "second.png"
    plot_report(changed, second)
    assert _pixels(second).tobytes() != image.tobytes()


def test_failing_workflow_bar_is_greyed(tmp_path: Path) -> None:
    failing = tmp_path / "failing.png"
    plot_report(_result(), failing)
    all_pass = copy.deepcopy(_result())
    all_pass["overall"]["workflows"]["keyframes_sensor_frame"]["passes_quality_bar"] = True
    passing = tmp_path / "passing.png"
    plot_report(all_pass, passing)

    def grey_pixels(path: Path) -> int:
        return sum(
            count for count, colour in _pixels(path).getcolors(maxcolors=2**24) or [] if colour == LIGHTGREY
        )

    # Anti-aliased text leaves a few hundred such pixels at most; a greyed bar face is tens of thousands.
    assert grey_pixels(failing) > 10_000
    assert grey_pixels(passing) < 1_000
