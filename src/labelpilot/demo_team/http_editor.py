"""The effort model's ``Editor`` over the HTTP API: what the browser editor does, as a simulated person.

It mirrors ``services.effort_editor.ServiceEditor`` call for call, but through the routes the browser
uses, logged in as the simulated annotator: every edit carries the version of the track the person
last saw and the task's id, candidates are confirmed or rejected with the version they were listed
with, the guidance queue is the task's (with the scene's default candidate layers, as the browser
asks for it), and editor events (heartbeats) go to the task's event route.
The scene's ground-truth layer is read through the API as well: it is the simulated person's eyes,
and the oracle charges every look at it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx2
import numpy as np
from numpy.typing import ArrayLike

from labelpilot.demo_team.api_client import ApiClient, ApiError
from labelpilot.demo_team.api_json import scene_from_json, track_from_json
from labelpilot.effort.editor import GUIDANCE_ITEM_OPENED, EditorTracks, item_opened_payload
from labelpilot.effort.ground_truth import GroundTruth
from labelpilot.geometry import Pose
from labelpilot.geometry.pose_json import pose_to_json, poses_by_frame_to_json
from labelpilot.guidance.actions import Action
from labelpilot.tracks import Track, TrackStatus

GROUND_TRUTH = "ground_truth"


def _floats(values: ArrayLike) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def layer_tracks(client: ApiClient, scene_id: int, layer: str) -> list[dict[str, Any]]:
    """The layer's live tracks as the API answers them (``{"track", "shapes"}``); none for a layer
    that does not exist yet (a task's layer is made by its first edit)."""
    listed = client.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks", missing_ok=True)
    return list(listed or [])


def ground_truth(client: ApiClient, scene_id: int) -> GroundTruth:
    """The scene's ground truth, read as any member who sees the scene may read it."""
    items = layer_tracks(client, scene_id, GROUND_TRUTH)
    if not items:
        raise ValueError(f"scene {scene_id} has no {GROUND_TRUTH} layer: nothing to simulate a person with")
    return GroundTruth(track_from_json(item["track"]) for item in items)


class HttpEditor(EditorTracks):
    """The ``effort.editor.Editor`` of one simulated annotator in one task, over HTTP."""

    def __init__(
        self, client: ApiClient, task: Mapping[str, Any], candidate_layers: Sequence[str] = ()
    ) -> None:
        self.client = client
        self.task_id = int(task["id"])
        self.scene_id = int(task["scene_id"])
        self.work_layer = str(task["layer"])
        self.candidate_layers = list(candidate_layers)
        detail = client.call("GET", f"/api/scenes/{self.scene_id}")
        frames = client.call("GET", f"/api/scenes/{self.scene_id}/frames")
        super().__init__(scene_from_json(str(detail["summary"]["name"]), frames))
        self._candidate_versions: dict[str, int] = {}
        # A task picked up again (the demo restarted, or a reviewer rejected it) shows its work so far.
        for item in layer_tracks(client, self.scene_id, self.work_layer):
            self._keep(item)

    # -- what the editor shows ---------------------------------------------------------------------
    def candidates(self) -> dict[str, Track]:
        found: dict[str, Track] = {}
        for name in self.candidate_layers:
            for item in layer_tracks(self.client, self.scene_id, name):
                track = track_from_json(item["track"])
                if track.status is TrackStatus.CANDIDATE:
                    found[track.track_id] = track
                    self._candidate_versions[track.track_id] = int(item["track"]["version"])
        return found

    def guidance(self) -> list[Action]:
        queue = self.client.call(
            "GET", f"/api/scenes/{self.scene_id}/guidance", params={"task_id": self.task_id}
        )
        return [Action.from_json(item) for item in queue]

    def proposed_life(self, track_id: str) -> list[Action]:
        items = self.client.call(
            "GET", f"/api/tracks/{track_id}/proposed-life", params={"task_id": self.task_id}
        )
        return [Action.from_json(item) for item in items]

    # -- editor events -------------------------------------------------------------------------------
    def send_event(self, kind: str, payload: Mapping[str, Any]) -> bool:
        """Record an editor event; like the browser, a failed one is dropped (never blocks the work)."""
        try:
            self.client.call("POST", f"/api/tasks/{self.task_id}/events", {"kind": kind, "payload": payload})
        except (ApiError, httpx2.HTTPError):
            return False
        return True

    # -- keeping what the server answers -------------------------------------------------------------
    def _keep(self, answer: Mapping[str, Any]) -> Track:
        return self._remember(track_from_json(answer["track"]), int(answer["track"]["version"]))

    def _versioned(self, track_id: str, **fields: Any) -> dict[str, Any]:
        return {"expected_version": self._versions[track_id], "task_id": self.task_id, **fields}

    def _edit(self, method: str, path: str, track_id: str, **fields: Any) -> Track:
        return self._keep(self.client.call(method, path, self._versioned(track_id, **fields)))

    # -- edits ------------------------------------------------------------------------------------------------
    def create_track(
        self,
        label: str,
        size: ArrayLike,
        keyframes: Mapping[int, Pose] | None = None,
        stationary_pose: Pose | None = None,
        life: tuple[int, int] | None = None,
    ) -> Track:
        body: dict[str, Any] = {
            "layer": self.work_layer,
            "label": label,
            "size": _floats(size),
            "task_id": self.task_id,
        }
        if keyframes is not None:
            body["keyframes"] = poses_by_frame_to_json(keyframes)
        if stationary_pose is not None:
            body["stationary_pose"] = pose_to_json(stationary_pose)
        if life is not None:
            body["first_frame"], body["last_frame"] = life
        return self._keep(self.client.call("POST", f"/api/scenes/{self.scene_id}/tracks", body))

    def set_keyframe(self, track_id: str, frame: int, pose: Pose) -> Track:
        path = f"/api/tracks/{track_id}/keyframes/{frame}"
        return self._edit("PUT", path, track_id, pose=pose_to_json(pose))

    def delete_keyframe(self, track_id: str, frame: int) -> Track:
        params = {"expected_version": self._versions[track_id], "task_id": self.task_id}
        path = f"/api/tracks/{track_id}/keyframes/{frame}"
        return self._keep(self.client.call("DELETE", path, params=params))

    def set_keyframes(self, track_id: str, poses: Mapping[int, Pose]) -> Track:
        path = f"/api/tracks/{track_id}/keyframes"
        return self._edit("PUT", path, track_id, keyframes=poses_by_frame_to_json(poses))

    def set_size(self, track_id: str, size: ArrayLike) -> Track:
        return self._edit("PATCH", f"/api/tracks/{track_id}", track_id, size=_floats(size))

    def set_label(self, track_id: str, label: str) -> Track:
        return self._edit("PATCH", f"/api/tracks/{track_id}", track_id, label=label)

    def set_life(self, track_id: str, first_frame: int, last_frame: int) -> Track:
        path = f"/api/tracks/{track_id}/life"
        return self._edit("PUT", path, track_id, first_frame=first_frame, last_frame=last_frame)

    def extend(self, track_id: str, frame: int) -> Track:
        return self._edit("POST", f"/api/tracks/{track_id}/extend", track_id, frame=frame)

    def accept_life(self, track_id: str, first_frame: int, last_frame: int) -> Track:
        path = f"/api/tracks/{track_id}/accept-life"
        return self._edit("POST", path, track_id, first_frame=first_frame, last_frame=last_frame)

    def set_absent(self, track_id: str, frames: Sequence[int], absent: bool = True) -> Track:
        path = f"/api/tracks/{track_id}/absent"
        return self._edit("PUT", path, track_id, frames=[int(f) for f in frames], absent=absent)

    def make_stationary(self, track_id: str, pose: Pose | None = None) -> Track:
        path = f"/api/tracks/{track_id}/stationary"
        return self._edit("POST", path, track_id, pose=None if pose is None else pose_to_json(pose))

    def make_moving(self, track_id: str, keyframes: Mapping[int, Pose] | None = None) -> Track:
        poses = None if keyframes is None else poses_by_frame_to_json(keyframes)
        return self._edit("POST", f"/api/tracks/{track_id}/moving", track_id, keyframes=poses)

    def delete_track(self, track_id: str) -> None:
        params = {"expected_version": self._versions[track_id], "task_id": self.task_id}
        self.client.call("DELETE", f"/api/tracks/{track_id}", params=params)
        del self._tracks[track_id]
        del self._versions[track_id]

    def _candidate_body(self, candidate_id: str) -> dict[str, Any]:
        return {"expected_version": self._candidate_versions[candidate_id], "task_id": self.task_id}

    def confirm(
        self, candidate_id: str, keyframes: Sequence[int] | None = None, judged_frame: int | None = None
    ) -> Track:
        body = self._candidate_body(candidate_id)
        if keyframes is not None:
            body["keyframes"] = [int(f) for f in keyframes]
        if judged_frame is not None:
            body["judged_frame"] = judged_frame
        # The answer is the accepted copy in the task's layer (and the candidate's new state).
        return self._keep(self.client.call("POST", f"/api/tracks/{candidate_id}/confirm", body))

    def reject(self, candidate_ids: Sequence[str]) -> None:
        tracks = [{"id": int(i), "expected_version": self._candidate_versions[i]} for i in candidate_ids]
        self.client.call("POST", "/api/candidates/reject", {"tracks": tracks, "task_id": self.task_id})

    def submit(self) -> None:
        self.client.call("POST", f"/api/tasks/{self.task_id}/submit", {})

    def item_opened(self, action: Action) -> None:
        self.send_event(GUIDANCE_ITEM_OPENED, item_opened_payload(action))
