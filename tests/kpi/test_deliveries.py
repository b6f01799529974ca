"""Shapes of a track, and which submitted task a delivered track counts for."""

from __future__ import annotations

from datetime import UTC, datetime

from labelpilot.kpi.deliveries import credit_deliveries, shape_count
from labelpilot.kpi.records import LayerTrack, SubmittedTask

ANN, ABE = 1, 2
DAY_1 = datetime(2026, 12, 14, 11, 0, tzinfo=UTC)
DAY_2 = datetime(2026, 12, 15, 9, 30, tzinfo=UTC)


def test_a_track_has_a_shape_in_every_frame_of_its_life_but_the_absent_ones() -> None:
    assert shape_count(0, 9, []) == 10
    assert shape_count(0, 9, [3, 4]) == 8
    assert shape_count(5, 5, []) == 1
    # Absent frames outside the life (left over from an older life) take nothing away.
    assert shape_count(2, 6, [0, 3, 12]) == 4
    assert shape_count(4, 3, []) == 0


def _track(track_id: int, layer: str = "work", *, shapes: int = 10, kind: str = "manual") -> LayerTrack:
    return LayerTrack(
        track_id, scene_id=5, layer=layer, shapes=shapes, provenance_kind=kind, stationary=False
    )


def test_each_track_counts_once_for_the_task_that_last_touched_it_else_the_last_submitted() -> None:
    first = SubmittedTask(task_id=11, scene_id=5, layer="work", user_id=ANN, submitted_at=DAY_1)
    second = SubmittedTask(task_id=12, scene_id=5, layer="work", user_id=ABE, submitted_at=DAY_2)
    other_layer = SubmittedTask(task_id=13, scene_id=5, layer="night", user_id=ANN, submitted_at=DAY_2)
    tracks = [
        _track(100, shapes=40, kind="candidate"),  # ann edited it last in task 11
        _track(101, shapes=7),  # abe edited it last in task 12
        _track(102, shapes=3),  # nobody edited it in a task: the layer as last submitted
        _track(103, shapes=5),  # last touched in a task that is not delivered (e.g. still in progress)
        _track(104, "night", shapes=9),
        LayerTrack(105, scene_id=6, layer="work", shapes=50, provenance_kind="manual", stationary=True),
    ]
    deliveries = credit_deliveries([second, other_layer, first], tracks, {100: 11, 101: 12, 103: 99, 104: 11})
    credited = {d.track_id: (d.task_id, d.user_id, d.at, d.shapes) for d in deliveries}
    assert credited == {
        100: (11, ANN, DAY_1, 40),
        101: (12, ABE, DAY_2, 7),
        102: (12, ABE, DAY_2, 3),
        103: (12, ABE, DAY_2, 5),
        # Task 11 is not in the night layer: the night layer's only submitted task gets it.
        104: (13, ANN, DAY_2, 9),
    }
    assert next(d for d in deliveries if d.track_id == 100).provenance_kind == "candidate"
