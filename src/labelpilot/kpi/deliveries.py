"""Which delivered track counts for which submitted task, and how many shapes it is.

A shape is one cuboid of one track in one frame, so a track delivers a shape in every frame of its life
where it is not absent; a stationary track, labelled once, still delivers one in each of those frames.

Several submitted tasks can work in the same layer of the same scene (a rework, two people one after
the other). Each track counts once: for the submitted task that last recorded an event on it, or, when
none of them did (e.g. it was drawn without a task), for the task submitted last on that layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from labelpilot.kpi.records import Delivery, LayerTrack, SubmittedTask


def shape_count(first_frame: int, last_frame: int, absent_frames: Iterable[int]) -> int:
    """Frames of the life ``first_frame..last_frame`` (inclusive) where the track has a shape."""
    if last_frame < first_frame:
        return 0
    absent = {f for f in absent_frames if first_frame <= f <= last_frame}
    return last_frame - first_frame + 1 - len(absent)


def credit_deliveries(
    tasks: Iterable[SubmittedTask],
    tracks: Iterable[LayerTrack],
    last_task_of_track: Mapping[int, int],
) -> list[Delivery]:
    """One delivery per track of a submitted task's layer.

    ``last_task_of_track`` maps a track to the task of the last event recorded on it within the
    submitted tasks (a task that is not among ``tasks`` is ignored).
    """
    by_layer: dict[tuple[int, str], list[SubmittedTask]] = {}
    for task in sorted(tasks, key=lambda t: (t.submitted_at, t.task_id)):
        by_layer.setdefault((task.scene_id, task.layer), []).append(task)
    deliveries: list[Delivery] = []
    for track in tracks:
        candidates = by_layer.get((track.scene_id, track.layer))
        if not candidates:
            continue
        touched = last_task_of_track.get(track.track_id)
        task = next((t for t in candidates if t.task_id == touched), candidates[-1])
        deliveries.append(
            Delivery(
                user_id=task.user_id,
                at=task.submitted_at,
                task_id=task.task_id,
                track_id=track.track_id,
                shapes=track.shapes,
                provenance_kind=track.provenance_kind,
                stationary=track.stationary,
                label=track.label,
            )
        )
    return deliveries
