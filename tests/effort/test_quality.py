"""Which delivered shapes pass (EFFORT_MODEL rule 1), and the stationary / moving split."""

from __future__ import annotations

from labelpilot.effort.ground_truth import GroundTruth
from labelpilot.effort.quality import evaluate
from labelpilot.geometry import Pose
from labelpilot.tracks import Track


def _track(
    track_id: str, label: str, xs: list[float], size: tuple[float, float, float] = (4.0, 1.8, 1.5)
) -> Track:
    keys = {f: Pose.from_yaw(0.0, [x, 0.0, 0.0]) for f, x in enumerate(xs)}
    return Track.keyframed(track_id, label, list(size), keys)


def test_shapes_pass_against_their_object_at_the_class_threshold() -> None:
    parked = _track("parked", "Car", [0.0] * 4)
    walker = _track("walker", "Pedestrian", [10.0, 11.5, 13.0, 14.5], (0.8, 0.6, 1.7))
    truth = GroundTruth([parked, walker])
    assert truth.objects["parked"].stationary and not truth.objects["walker"].stationary
    delivered = [
        _track("d1", "Car", [0.0, 0.0, 0.9, 0.0]),  # 0.9 m off along a 4 m car in frame 2: IoU 0.63 < 0.7
        _track("d2", "Pedestrian", [10.0, 11.65, 13.0, 14.5], (0.8, 0.6, 1.7)),  # IoU 0.68 >= 0.5 in frame 1
        _track("dup", "Car", [0.0, 0.0, 0.0, 0.0]),  # the same car again: only one shape per frame counts
        _track("ghost", "Car", [40.0, 40.0]),  # nothing there
    ]
    result = evaluate(truth, delivered)
    assert (result.overall.gt_shapes, result.overall.delivered_shapes) == (8, 14)
    assert result.overall.passing_shapes == 8  # d1 fails frame 2 but its duplicate passes there
    failing = sorted(result.failing)
    assert ("ghost", 0) in failing and ("ghost", 1) in failing
    assert len([f for f in failing if f[0] in ("d1", "dup")]) == 4
    assert result.by_split["stationary"].gt_shapes == 4 and result.by_split["moving"].passing_shapes == 4


def test_a_shape_of_the_wrong_class_fails() -> None:
    truth = GroundTruth([_track("van", "Van", [0.0, 0.0])])
    result = evaluate(truth, [_track("d", "Car", [0.0, 0.0])])
    assert result.overall.passing_shapes == 0 and len(result.failing) == 2
