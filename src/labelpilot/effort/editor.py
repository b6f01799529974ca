"""The editor operations the simulated annotator may use, and nothing else.

The benchmark's annotator acts through this protocol only. Its one implementation,
``services.effort_editor.ServiceEditor``, calls the service layer's edits (versioned, recorded as
events, in a task) and the guidance queue, exactly what the browser editor calls through the API;
so the workflows measure the product, not a copy of it. Poses are world poses; track ids are the
store's ids as strings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from numpy.typing import ArrayLike

from labelpilot.geometry import Pose
from labelpilot.guidance.actions import Action
from labelpilot.scenes import Scene
from labelpilot.tracks import Track


class Editor(Protocol):
    @property
    def scene(self) -> Scene:
        """The scene's frames, poses and sensors (no annotation layers): what the editor shows."""
        ...

    def work_tracks(self) -> list[Track]:
        """The live tracks of the annotator's work layer."""
        ...

    def track(self, track_id: str) -> Track: ...

    def candidates(self) -> dict[str, Track]:
        """Pending candidate tracks of the candidate layers, by id."""
        ...

    def guidance(self) -> list[Action]:
        """The guidance queue for the work layer, best first."""
        ...

    def proposed_life(self, track_id: str) -> list[Action]:
        """The queue's items about one work track's life (``accept_life``, ``check_end``)."""
        ...

    def create_track(
        self,
        label: str,
        size: ArrayLike,
        keyframes: Mapping[int, Pose] | None = None,
        stationary_pose: Pose | None = None,
        life: tuple[int, int] | None = None,
    ) -> Track: ...

    def set_keyframe(self, track_id: str, frame: int, pose: Pose) -> Track: ...

    def delete_keyframe(self, track_id: str, frame: int) -> Track: ...

    def set_keyframes(self, track_id: str, poses: Mapping[int, Pose]) -> Track: ...

    def set_size(self, track_id: str, size: ArrayLike) -> Track: ...

    def set_label(self, track_id: str, label: str) -> Track: ...

    def set_life(self, track_id: str, first_frame: int, last_frame: int) -> Track: ...

    def extend(self, track_id: str, frame: int) -> Track:
        """Extend the life to ``frame`` (outside it); a moving track's box goes on where its keyframes
        lead (``tracks.extrapolation``)."""
        ...

    def accept_life(self, track_id: str, first_frame: int, last_frame: int) -> Track:
        """Accept the proposed life (the editor's ``a``): a person's moving track is continued where its
        keyframes lead, any other track's life set; the queue stops offering it."""
        ...

    def set_absent(self, track_id: str, frames: Sequence[int], absent: bool = True) -> Track: ...

    def make_stationary(self, track_id: str, pose: Pose | None = None) -> Track: ...

    def make_moving(self, track_id: str, keyframes: Mapping[int, Pose] | None = None) -> Track:
        """Turn a stationary track into a keyframed one (default: its box at the first and last frame)."""
        ...

    def delete_track(self, track_id: str) -> None: ...

    def confirm(
        self, candidate_id: str, keyframes: Sequence[int] | None = None, judged_frame: int | None = None
    ) -> Track:
        """Accept a candidate (keyed at ``keyframes`` when given), judged at ``judged_frame`` (the frame
        on screen); returns the track in the work layer."""
        ...

    def reject(self, candidate_ids: Sequence[str]) -> None:
        """Reject candidates as false positives, all at once (one request; all or nothing)."""
        ...

    def submit(self) -> None:
        """Submit the task."""
        ...

    def item_opened(self, action: Action) -> None:
        """The person opened an item of the guidance queue: recorded as the browser editor records it
        (a ``guidance_item_opened`` event of the task, which the KPIs count)."""
        ...


GUIDANCE_ITEM_OPENED = "guidance_item_opened"


def item_opened_payload(action: Action) -> dict[str, int | str]:
    """The ``guidance_item_opened`` event's payload for ``action`` (as ``guidanceFlow.js`` sends it)."""
    payload: dict[str, int | str] = {"action_kind": action.kind, "frame": action.frame}
    if action.track_id is not None and action.track_id.isdigit():
        payload["track_id"] = int(action.track_id)
    return payload


class EditorTracks:
    """What every ``Editor`` keeps the same way: the scene it shows and the work layer's tracks with the
    version each was last answered at (the next edit's ``expected_version``)."""

    def __init__(self, scene: Scene) -> None:
        self._scene = scene
        self._tracks: dict[str, Track] = {}
        self._versions: dict[str, int] = {}

    @property
    def scene(self) -> Scene:
        return self._scene

    def work_tracks(self) -> list[Track]:
        return list(self._tracks.values())

    def track(self, track_id: str) -> Track:
        return self._tracks[track_id]

    def _remember(self, track: Track, version: int) -> Track:
        self._tracks[track.track_id] = track
        self._versions[track.track_id] = version
        return track
