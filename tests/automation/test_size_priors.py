"""Size priors: built-in constants that are the real data's statistics, learned priors, plausibility flags.

Measured with the built-in priors at z = 3 on every ground-truth track of ../shared/data: KITTI 12 of
442 tracks flagged (2.7 %), Argoverse 2 18 of 453 (4.0 %); PointRCNN detections in KITTI 0000-0010 2.6 %
(most are vans or small trucks detected as ``Car``, e.g. 5.95 x 2.07 x 2.52 m).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.classes import ClassFamily, class_family, is_known_label
from labelpilot.automation.size_priors import (
    BUILTIN_FAMILY_SIZES,
    BUILTIN_LABEL_SIZES,
    MIN_BUILTIN_COUNT,
    SizePriors,
    SizeStats,
    size_statistics,
)
from labelpilot.formats import read_scene
from labelpilot.scenes import Scene
from labelpilot.tracks import Track, TrackStatus

SAMPLE_KITTI = ("0000", "0001", "0004")


def _scenes(root: Path, sequences: tuple[str, ...] | None = None) -> Iterator[Scene]:
    kitti = root / "kitti-tracking"
    names = sequences or tuple(p.stem for p in sorted((kitti / "training" / "label_02").glob("*.txt")))
    for name in names:
        yield read_scene("kitti-tracking", kitti, name)
    for log in sorted((root / "argoverse2" / "logs").iterdir()):
        if log.is_dir():
            yield read_scene("av2", log)


@pytest.fixture(scope="module")
def sample_scenes(sample_dir: Path) -> list[Scene]:
    return list(_scenes(sample_dir, SAMPLE_KITTI))


def _truth(scenes: list[Scene]) -> list[Track]:
    return [t for scene in scenes for t in scene.layer("ground_truth")]


def test_builtin_constants_are_the_shared_data_statistics(shared_data: Path) -> None:
    tracks = _truth(list(_scenes(shared_data)))
    by_label = size_statistics(tracks)
    expected = {name for name, stats in by_label.items() if stats.count >= MIN_BUILTIN_COUNT}
    assert set(BUILTIN_LABEL_SIZES) == expected
    for name, (mean, std, count) in BUILTIN_LABEL_SIZES.items():
        assert by_label[name].count == count, name
        np.testing.assert_allclose(by_label[name].mean, mean, atol=6e-4, err_msg=name)
        np.testing.assert_allclose(by_label[name].std, std, atol=6e-4, err_msg=name)
    by_family = size_statistics(tracks, key="family")
    for family, (mean, std, count) in BUILTIN_FAMILY_SIZES.items():
        assert by_family[str(family)].count == count, family
        np.testing.assert_allclose(by_family[str(family)].mean, mean, atol=6e-4)
        np.testing.assert_allclose(by_family[str(family)].std, std, atol=6e-4)


def test_builtin_constants_agree_with_the_bundled_sample(sample_scenes: list[Scene]) -> None:
    priors = SizePriors.builtin()
    compared = 0
    for name, stats in size_statistics(_truth(sample_scenes)).items():
        if stats.count >= 5 and name in BUILTIN_LABEL_SIZES:
            builtin = priors.stats(name)
            assert np.all(np.abs(stats.mean - builtin.mean) <= builtin.floored()), name
            compared += 1
    assert compared >= 5


def test_default_sizes_are_plausible() -> None:
    priors = SizePriors.builtin()
    for label in ("Car", "car", "REGULAR_VEHICLE"):
        length, width, height = priors.default_size(label)
        assert 3.5 <= length <= 5.0 and 1.5 <= width <= 2.1 and 1.3 <= height <= 1.9, label
    for label in ("Pedestrian", "PEDESTRIAN", "Person_sitting"):
        length, width, height = priors.default_size(label)
        assert length < 1.0 and width < 1.0 and 1.5 <= height <= 1.9, label
    assert priors.default_size("Truck")[0] > 2 * priors.default_size("Car")[0]
    # Unknown names fall back to their family; wildcard labels to "other".
    np.testing.assert_allclose(
        priors.default_size("SCHOOL_BUS"), BUILTIN_FAMILY_SIZES[ClassFamily.VEHICLE][0]
    )
    np.testing.assert_allclose(priors.default_size("unknown"), BUILTIN_FAMILY_SIZES[ClassFamily.OTHER][0])


def test_learned_priors_move_toward_project_data(sample_scenes: list[Scene]) -> None:
    # A project that labels its cars the Argoverse 2 way (longer, wider boxes) but calls them "Car".
    av2_cars = [t for t in _truth(sample_scenes) if t.label == "REGULAR_VEHICLE"]
    project = [replace(t, label="Car") for t in av2_cars]
    builtin = SizePriors.builtin()
    learned = SizePriors.learned(project)
    target = np.median(np.stack([t.size for t in project]), axis=0)
    weight = len(project) / (len(project) + 20.0)
    np.testing.assert_allclose(
        learned.default_size("Car"), weight * target + (1 - weight) * builtin.default_size("Car"), rtol=1e-9
    )
    before = np.abs(builtin.default_size("Car") - target)
    after = np.abs(learned.default_size("Car") - target)
    assert np.all(after < before)
    # Few tracks, or tracks nobody confirmed, leave the prior alone.
    unchanged = SizePriors.learned(project[:4])
    np.testing.assert_allclose(unchanged.default_size("Car"), builtin.default_size("Car"))
    candidates = [replace(t, status=TrackStatus.CANDIDATE) for t in project]
    np.testing.assert_allclose(
        SizePriors.learned(candidates).default_size("Car"), builtin.default_size("Car")
    )


def test_few_ground_truth_boxes_are_flagged(sample_scenes: list[Scene]) -> None:
    priors = SizePriors.builtin()
    for dataset in ("kitti-tracking", "av2"):
        tracks = [t for s in sample_scenes if s.source_format == dataset for t in s.layer("ground_truth")]
        flagged = sum(priors.is_implausible(t.label, t.size) for t in tracks)
        assert len(tracks) > 50
        assert flagged / len(tracks) < 0.06, (dataset, flagged, len(tracks))


def test_absurd_pointrcnn_sizes_are_flagged_with_a_reason(sample_scenes: list[Scene]) -> None:
    priors = SizePriors.builtin()
    detections = [t for s in sample_scenes if "auto:pointrcnn" in s.layers for t in s.layer("auto:pointrcnn")]
    worst = max(detections, key=lambda t: float(np.abs(priors.zscore(t.label, t.size)).max()))
    check = priors.check(worst.label, worst.size)
    assert check.implausible
    axis = int(np.argmax(np.abs(check.zscores)))
    assert worst.label in check.reason and ("length", "width", "height")[axis] in check.reason
    assert f"{worst.size[axis]:.2f} m" in check.reason
    flagged = sum(priors.is_implausible(t.label, t.size) for t in detections)
    assert 0 < flagged / len(detections) < 0.06


def test_impossible_sizes_and_strictness() -> None:
    priors = SizePriors.builtin()
    check = priors.check("Car", [0.0, 1.6, 1.5])
    assert check.implausible and "non-positive" in check.reason
    car = priors.stats("Car")
    just_inside = car.mean + 2.9 * car.floored() * np.array([1.0, 0.0, 0.0])
    assert not priors.is_implausible("Car", just_inside)
    assert priors.is_implausible("Car", just_inside, z=2.5)


def test_priors_need_every_family() -> None:
    with pytest.raises(ValueError, match="every class family"):
        SizePriors({}, {ClassFamily.VEHICLE: SizeStats.of(BUILTIN_FAMILY_SIZES[ClassFamily.VEHICLE])})


def test_class_families_of_both_datasets() -> None:
    assert class_family("Van") is ClassFamily.VEHICLE and class_family("BOX_TRUCK") is ClassFamily.VEHICLE
    assert class_family("person_sitting") is ClassFamily.PEDESTRIAN
    assert class_family("Cyclist") is ClassFamily.CYCLIST and class_family("BICYCLE") is ClassFamily.CYCLIST
    assert class_family("BOLLARD") is ClassFamily.OTHER and class_family("unknown") is ClassFamily.OTHER
    assert class_family(None) is ClassFamily.OTHER
    assert is_known_label(" regular_vehicle ") and not is_known_label("unknown")
