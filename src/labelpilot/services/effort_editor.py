"""The effort benchmark's editor: the annotator's operations as calls of the service layer.

Every operation is the service call the browser editor makes through the API, in the annotator's
task, with the annotator's rights: versioned edits (the version the annotator last saw), events, the
guidance queue. Nothing here decides anything; it only translates between the benchmark's world
poses and the services' JSON and keeps the versions the annotator has seen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.effort.editor import GUIDANCE_ITEM_OPENED, EditorTracks, item_opened_payload
from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_to_json, poses_by_frame_to_json
from labelpilot.guidance.actions import Action
from labelpilot.services import guidance_queue, task_events, tasks, track_edits
from labelpilot.services.actors import Actor
from labelpilot.services.scene_load import layer_tracks, load_scene
from labelpilot.services.track_edit_store import EditResult
from labelpilot.store.blobs import BlobStore
from labelpilot.store.tables import LayerRow, TrackRow
from labelpilot.tracks import Track, TrackStatus


class ServiceEditor(EditorTracks):
    """The ``effort.editor.Editor`` of one annotator in one task, on one database session."""

    def __init__(
        self,
        session: Session,
        blobs: BlobStore,
        actor: Actor,
        scene_id: int,
        task_id: int,
        candidate_layers: Sequence[str] = (),
    ) -> None:
        self.session = session
        self.blobs = blobs
        self.actor = actor
        self.scene_id = scene_id
        self.task_id = task_id
        self.candidate_layers = list(candidate_layers)
        self.work_layer = tasks.get_task(session, actor, task_id).layer
        super().__init__(load_scene(session, blobs, actor, scene_id, []))

    # -- what the editor shows ---------------------------------------------------------------------
    def candidates(self) -> dict[str, Track]:
        found: dict[str, Track] = {}
        for name in self.candidate_layers:
            layer_id = self.session.scalar(
                select(LayerRow.id).where(LayerRow.scene_id == self.scene_id, LayerRow.name == name)
            )
            if layer_id is None:
                raise KeyError(f"scene {self.scene_id} has no layer {name!r}")
            for track in layer_tracks(self.session, layer_id):
                if track.status is TrackStatus.CANDIDATE:
                    found[track.track_id] = track
        return found

    def guidance(self) -> list[Action]:
        queue = guidance_queue.guidance(
            self.session,
            self.blobs,
            self.actor,
            self.scene_id,
            task_id=self.task_id,
            work_layer=self.work_layer,
            candidate_layers=self.candidate_layers,
        )
        return [Action.from_json(item) for item in queue]

    def proposed_life(self, track_id: str) -> list[Action]:
        items = guidance_queue.proposed_life(
            self.session, self.blobs, self.actor, int(track_id), task_id=self.task_id
        )
        return [Action.from_json(item) for item in items]

    # -- keeping what the services return ------------------------------------------------------------
    def _keep(self, result: EditResult) -> Track:
        track = result.model
        assert track is not None  # edits of live tracks; deletes do not come here
        # codec.track_from_rows names a track by its row id, the id the editor addresses it by.
        return self._remember(track, int(result.track["version"]))

    def _edit(self, track_id: str) -> dict[str, Any]:
        return {
            "session": self.session,
            "actor": self.actor,
            "track_id": int(track_id),
            "expected_version": self._versions[track_id],
            "task_id": self.task_id,
        }

    # -- edits ------------------------------------------------------------------------------------------------
    def create_track(
        self,
        label: str,
        size: ArrayLike,
        keyframes: Mapping[int, Pose] | None = None,
        stationary_pose: Pose | None = None,
        life: tuple[int, int] | None = None,
    ) -> Track:
        result = track_edits.create_track(
            self.session,
            self.actor,
            self.scene_id,
            self.work_layer,
            label,
            [float(v) for v in np.asarray(size, dtype=np.float64)],
            keyframes=None if keyframes is None else poses_by_frame_to_json(keyframes),
            stationary_pose=None if stationary_pose is None else pose_to_json(stationary_pose),
            first_frame=None if life is None else life[0],
            last_frame=None if life is None else life[1],
            task_id=self.task_id,
        )
        return self._keep(result)

    def set_keyframe(self, track_id: str, frame: int, pose: Pose) -> Track:
        return self._keep(
            track_edits.set_keyframe(**self._edit(track_id), frame=frame, pose=pose_to_json(pose))
        )

    def delete_keyframe(self, track_id: str, frame: int) -> Track:
        return self._keep(track_edits.delete_keyframe(**self._edit(track_id), frame=frame))

    def set_keyframes(self, track_id: str, poses: Mapping[int, Pose]) -> Track:
        return self._keep(
            track_edits.set_keyframes(**self._edit(track_id), keyframes=poses_by_frame_to_json(poses))
        )

    def set_size(self, track_id: str, size: ArrayLike) -> Track:
        values = [float(v) for v in np.asarray(size, dtype=np.float64)]
        return self._keep(track_edits.update_track(**self._edit(track_id), size=values))

    def set_label(self, track_id: str, label: str) -> Track:
        return self._keep(track_edits.update_track(**self._edit(track_id), label=label))

    def set_life(self, track_id: str, first_frame: int, last_frame: int) -> Track:
        return self._keep(
            track_edits.set_life(**self._edit(track_id), first_frame=first_frame, last_frame=last_frame)
        )

    def extend(self, track_id: str, frame: int) -> Track:
        return self._keep(track_edits.extend_track(**self._edit(track_id), frame=frame))

    def accept_life(self, track_id: str, first_frame: int, last_frame: int) -> Track:
        return self._keep(
            track_edits.accept_life(**self._edit(track_id), first_frame=first_frame, last_frame=last_frame)
        )

    def set_absent(self, track_id: str, frames: Sequence[int], absent: bool = True) -> Track:
        return self._keep(track_edits.set_absent(**self._edit(track_id), frames=list(frames), absent=absent))

    def make_stationary(self, track_id: str, pose: Pose | None = None) -> Track:
        return self._keep(
            track_edits.make_stationary(
                **self._edit(track_id), pose=None if pose is None else pose_to_json(pose)
            )
        )

    def make_moving(self, track_id: str, keyframes: Mapping[int, Pose] | None = None) -> Track:
        poses = None if keyframes is None else poses_by_frame_to_json(keyframes)
        return self._keep(track_edits.make_moving(**self._edit(track_id), keyframes=poses))

    def delete_track(self, track_id: str) -> None:
        track_edits.delete_track(**self._edit(track_id))
        del self._tracks[track_id]
        del self._versions[track_id]

    def confirm(
        self, candidate_id: str, keyframes: Sequence[int] | None = None, judged_frame: int | None = None
    ) -> Track:
        row = self.session.get(TrackRow, int(candidate_id))
        assert row is not None
        result = track_edits.confirm_candidate(
            self.session,
            self.actor,
            int(candidate_id),
            row.version,
            keyframes=None if keyframes is None else list(keyframes),
            judged_frame=judged_frame,
            task_id=self.task_id,
        )
        return self._keep(result)

    def reject(self, candidate_ids: Sequence[str]) -> None:
        items = []
        for candidate_id in candidate_ids:
            row = self.session.get(TrackRow, int(candidate_id))
            assert row is not None
            items.append((row.id, row.version))
        track_edits.reject_candidates(self.session, self.actor, items, task_id=self.task_id)

    def submit(self) -> None:
        tasks.submit_task(self.session, self.actor, self.task_id)

    def item_opened(self, action: Action) -> None:
        task_events.record_task_event(
            self.session, self.actor, self.task_id, GUIDANCE_ITEM_OPENED, item_opened_payload(action)
        )
