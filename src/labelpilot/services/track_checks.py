"""The editor's check key and end search on a stored track: which frame to look at next
(``guidance.checks``), and where its life really ends or starts (``guidance.end_search``).

The editor remembers, per track, what the person judged this session (frames looked at, frames found
right as shown, ends accepted from the proposed life) and sends it with each press of a key. The rules
are the ones the effort benchmark's annotator follows: ``guidance.checks.next_check``, with the limits
in seconds of ``DEFAULT_LIMIT_SECONDS`` turned into frames by the scene's frame period, and the end
search's ``start_search`` / ``narrow`` / ``probe`` / ``closed_life``. The end search keeps no state on the
server: the editor sends back the bracket each answer narrows.

Reading is checking the scene: whoever sees the scene (``scene_access``) may ask, as for its guidance;
nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from labelpilot.guidance.checks import (
    DEFAULT_LIMIT_SECONDS,
    CheckLimits,
    Judged,
    next_check,
    supported_frames,
)
from labelpilot.guidance.end_search import EndSearch, closed_life, narrow, probe, start_search
from labelpilot.services import tasks
from labelpilot.services.actors import Actor
from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.services.errors import InvalidError, NotFoundError
from labelpilot.services.scene_access import visible_scene
from labelpilot.services.scene_browse import scene_frame_period_s
from labelpilot.services.track_edit_store import load_track
from labelpilot.store.tables import SceneRow
from labelpilot.tracks import Track

NO_FRAME_TO_SEARCH_FROM = "no frame of the life to search from: delete the track, or set a keyframe first"


def judged_frames(value: Any, frame_count: int, field: str) -> frozenset[int]:
    """A list of distinct frame indices of the scene (``field`` names it in errors)."""
    if value is None:
        return frozenset()
    if not isinstance(value, list | tuple):
        raise InvalidError(f"{field} must be a list of frame indices", field=field)
    # Bounded before any per-item work: distinct frames of a scene are at most its frame count.
    if len(value) > frame_count:
        raise InvalidError(f"{field} lists at most the scene's {frame_count} frames", field=field)
    seen: set[int] = set()
    for item in value:
        frame = _scene_frame(item, frame_count, field, what="must hold integer frame indices")
        if frame in seen:
            raise InvalidError(f"{field} lists frame {frame} twice", field=field)
        seen.add(frame)
    return frozenset(seen)


def _scene_frame(
    value: Any, frame_count: int, field: str, what: str = "must be an integer frame index"
) -> int:
    """An integer frame index of the scene (``field`` names it in errors)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidError(f"{field} {what}, got {value!r}", field=field)
    if not 0 <= value < frame_count:
        raise InvalidError(
            f"{field}: frame {value} is outside the scene's frames 0..{frame_count - 1}", field=field
        )
    return value


@dataclass(frozen=True)
class _Asked:
    """A live track of a scene the caller sees, as stored, and what the person judged of it."""

    scene: SceneRow
    track: Track
    judged: Judged


def _asked(
    session: Session,
    actor: Actor,
    track_id: int,
    *,
    looked: Any,
    right: Any,
    accepted_ends: Any,
    task_id: int | None,
) -> _Asked:
    loaded = load_track(session, track_id)
    scene = visible_scene(session, actor, loaded.scene.id)
    if loaded.row.deleted:
        raise NotFoundError(f"track {track_id} was deleted")
    if task_id is not None:
        task = tasks.get_task(session, actor, task_id)
        if task.scene_id != scene.id:
            raise InvalidError(f"task {task_id} is on scene {task.scene_id}, not {scene.id}", field="task_id")
    frame_count = scene.frame_count
    judged = Judged(
        judged_frames(looked, frame_count, "looked"),
        judged_frames(right, frame_count, "right"),
        judged_frames(accepted_ends, frame_count, "accepted_ends"),
    )
    keyframes = [StoredKeyframe(f, p) for f, p in sorted(loaded.keyframes.items())]
    return _Asked(scene, track_from_rows(loaded.row, keyframes), judged)


def next_track_check(
    session: Session,
    actor: Actor,
    track_id: int,
    *,
    looked: Any = None,
    right: Any = None,
    accepted_ends: Any = None,
    task_id: int | None = None,
) -> dict[str, Any]:
    """``{"frame", "kind", "reason", "supported_frames"}``: the frame of the track to look at next
    (``frame`` and ``kind`` null once every stretch may stay as it is) given what was judged."""
    asked = _asked(
        session, actor, track_id, looked=looked, right=right, accepted_ends=accepted_ends, task_id=task_id
    )
    limits = CheckLimits.from_seconds(*DEFAULT_LIMIT_SECONDS, scene_frame_period_s(session, asked.scene.id))
    supported = supported_frames(asked.track)
    check = next_check(asked.track, asked.judged, limits, supported)
    return {
        "frame": None if check is None else check.frame,
        "kind": None if check is None else check.kind,
        "reason": "every stretch of the track has been looked at closely enough"
        if check is None
        else check.reason,
        "supported_frames": sorted(supported),
    }


def _end_search(value: Any, frame_count: int) -> EndSearch:
    """The bracket the editor sends back: ``{"present", "absent", "past_end"}``."""
    if not isinstance(value, Mapping):
        raise InvalidError('search must be {"present", "absent", "past_end"}', field="search")
    present = _scene_frame(value.get("present"), frame_count, "search.present")
    absent = _scene_frame(value.get("absent"), frame_count, "search.absent")
    past_end = value.get("past_end")
    if not isinstance(past_end, bool):
        raise InvalidError(
            f"search.past_end must be true or false, got {past_end!r}", field="search.past_end"
        )
    if present == absent:
        raise InvalidError(
            f"search: the object cannot be both here and gone at frame {present}", field="search.absent"
        )
    return EndSearch(present, absent, past_end)


def end_search_step(
    session: Session,
    actor: Actor,
    track_id: int,
    *,
    frame: Any,
    looked: Any = None,
    right: Any = None,
    accepted_ends: Any = None,
    search: Any = None,
    here: Any = None,
    task_id: int | None = None,
) -> dict[str, Any]:
    """One step of the end search (the editor's ``e``, then ``y`` / ``t``).

    Without ``search``: the search from ``frame``, where the person finds the object gone. With
    ``search`` (the bracket the last step answered) and ``here``: that bracket narrowed by the answer at
    ``frame``. Answers ``{"search": {"present", "absent", "past_end"}, "frame", "life", "finds_start"}``:
    ``frame`` the frame to open next, null once the bracket is closed; then ``life`` is ``[first, last]``,
    the life the search found (null before)."""
    asked = _asked(
        session, actor, track_id, looked=looked, right=right, accepted_ends=accepted_ends, task_id=task_id
    )
    frame_count = asked.scene.frame_count
    at = _scene_frame(frame, frame_count, "frame")
    if search is None:
        if here is not None:
            raise InvalidError("here answers a search: send the search it narrows", field="here")
        found = start_search(asked.track, asked.judged, at)
        if found is None:
            raise InvalidError(NO_FRAME_TO_SEARCH_FROM, field="frame")
    else:
        bracket = _end_search(search, frame_count)
        if not isinstance(here, bool):
            raise InvalidError(f"here must be true or false with a search, got {here!r}", field="here")
        try:
            found = narrow(bracket, at, here)
        except ValueError as outside:
            raise InvalidError(str(outside), field="frame") from outside
    life = closed_life(asked.track, found) if found.closed else None
    if life is not None and life[0] > life[1]:
        track = asked.track
        raise InvalidError(
            f"the search ({found.present} seen, {found.absent} gone) no longer fits the track's life "
            f"{track.first_frame}..{track.last_frame}: start it again",
            field="search",
        )
    return {
        "search": {"present": found.present, "absent": found.absent, "past_end": found.past_end},
        "frame": probe(found),
        "life": None if life is None else list(life),
        "finds_start": found.finds_start,
    }


__all__ = ["NO_FRAME_TO_SEARCH_FROM", "end_search_step", "judged_frames", "next_track_check"]
