"""Track edits. Each answers the track and its world-frame shapes in every frame of its life;
a stale ``expected_version`` answers 409 with the current track."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictBool

from labelpilot.api.deps import CurrentActor, SessionDep
from labelpilot.api.params import (
    MAX_INT32,
    BodyId,
    FrameNumber,
    FramePath,
    IdPath,
    IdQuery,
    Text,
    Version,
    VersionQuery,
)
from labelpilot.services import track_checks, track_edits

router = APIRouter(prefix="/api", tags=["tracks"])

Pose = list[float] | dict[str, Any]
JudgedFrame = Annotated[int, Field(strict=True, ge=0, le=MAX_INT32)]
"""A frame a person judged: a real JSON integer (no booleans, no strings)."""
MAX_JUDGED = 100_000
"""A bound before the service's own (at most the scene's frame count)."""
POSE_HELP = "12 numbers (3x4 row-major world pose), {center, yaw} or {center, quat_xyzw}"


class TrackCreate(BaseModel):
    layer: Text = Field(default="work", min_length=1, max_length=120)
    label: Text = Field(min_length=1, max_length=80)
    size: list[float] | None = Field(
        default=None,
        min_length=3,
        max_length=3,
        description="length, width, height in metres; default: the class's size in this project",
    )
    keyframes: dict[FrameNumber, Pose] | None = Field(default=None, description=f"frame -> pose: {POSE_HELP}")
    stationary_pose: Pose | None = Field(default=None, description=POSE_HELP)
    first_frame: FrameNumber | None = None
    last_frame: FrameNumber | None = None
    attributes: dict[Text, Text | int | float | bool] | None = None
    task_id: BodyId | None = None


class Versioned(BaseModel):
    expected_version: Version
    task_id: BodyId | None = None


class CandidateRef(BaseModel):
    id: BodyId
    expected_version: Version


class CandidateBatch(BaseModel):
    tracks: list[CandidateRef] = Field(min_length=1, max_length=5_000)
    task_id: BodyId | None = None

    def items(self) -> list[tuple[int, int]]:
        return [(t.id, t.expected_version) for t in self.tracks]


class TrackUpdate(Versioned):
    label: Text | None = Field(default=None, min_length=1, max_length=80)
    attributes: dict[Text, Text | int | float | bool] | None = None
    size: list[float] | None = Field(default=None, min_length=3, max_length=3)


class KeyframeSet(Versioned):
    pose: Pose = Field(description=POSE_HELP)


class KeyframesSet(Versioned):
    keyframes: dict[FrameNumber, Pose] = Field(description=f"frame -> pose: {POSE_HELP}")


class LifeSet(Versioned):
    first_frame: FrameNumber
    last_frame: FrameNumber


class LifeAccept(Versioned):
    first_frame: FrameNumber = Field(description="the proposed first frame")
    last_frame: FrameNumber = Field(description="the proposed last frame")


class TrackExtend(Versioned):
    frame: FrameNumber = Field(description="a frame outside the track's life")


class CandidateConfirm(Versioned):
    keyframes: list[FrameNumber] | None = Field(
        default=None,
        min_length=1,
        description="key the accepted track at these frames only (e.g. the guidance's suggestion)",
    )
    judged_frame: FrameNumber | None = Field(
        default=None,
        description="the frame on screen where the person judged the box (kept as the attribute judged_frame)",
    )


class AbsentSet(Versioned):
    frames: list[FrameNumber] = Field(min_length=1, description="frames inside the track's life")
    absent: bool = Field(description="true: the object is not seen there (no shape); false: seen again")


class CheckRequest(BaseModel):
    task_id: BodyId | None = None
    looked: list[JudgedFrame] = Field(
        default_factory=list, max_length=MAX_JUDGED, description="frames of the track the person looked at"
    )
    right: list[JudgedFrame] = Field(
        default_factory=list,
        max_length=MAX_JUDGED,
        description="frames looked at where the box was right as shown (left unedited)",
    )
    accepted_ends: list[JudgedFrame] = Field(
        default_factory=list,
        max_length=MAX_JUDGED,
        description="ends of the life taken from the proposed life without a look",
    )


class EndSearchBracket(BaseModel):
    present: JudgedFrame = Field(description="a frame where the object is")
    absent: JudgedFrame = Field(description="a frame where it is gone (or not there yet)")
    past_end: StrictBool = Field(description="the next frame to open is the one just past present")


class EndSearchRequest(CheckRequest):
    frame: JudgedFrame = Field(
        description="without search: the frame where the person finds the object gone; with it: "
        "the frame the answer is about (inside the bracket)"
    )
    search: EndSearchBracket | None = Field(
        default=None, description="the bracket the last step answered; none to start a search"
    )
    here: StrictBool | None = Field(
        default=None, description="with search: whether the object is at frame (y) or not (t)"
    )


class MakeStationary(Versioned):
    pose: Pose | None = Field(
        default=None, description=f"default: a robust pose from the keyframes; {POSE_HELP}"
    )


class MakeMoving(Versioned):
    keyframes: dict[FrameNumber, Pose] | None = None


@router.post("/scenes/{scene_id}/tracks", status_code=201)
def create_track(
    scene_id: IdPath, body: TrackCreate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    result = track_edits.create_track(
        session,
        actor,
        scene_id,
        body.layer,
        body.label,
        body.size,
        keyframes=body.keyframes,
        stationary_pose=body.stationary_pose,
        first_frame=body.first_frame,
        last_frame=body.last_frame,
        attributes=body.attributes,
        task_id=body.task_id,
    )
    return result.to_json()


@router.patch("/tracks/{track_id}")
def update_track(
    track_id: IdPath, body: TrackUpdate, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    result = track_edits.update_track(
        session,
        actor,
        track_id,
        body.expected_version,
        label=body.label,
        attributes=body.attributes,
        size=body.size,
        task_id=body.task_id,
    )
    return result.to_json()


@router.put("/tracks/{track_id}/keyframes/{frame}")
def set_keyframe(
    track_id: IdPath, frame: FramePath, body: KeyframeSet, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    result = track_edits.set_keyframe(
        session, actor, track_id, body.expected_version, frame, body.pose, task_id=body.task_id
    )
    return result.to_json()


@router.put("/tracks/{track_id}/keyframes")
def set_keyframes(
    track_id: IdPath, body: KeyframesSet, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    result = track_edits.set_keyframes(
        session, actor, track_id, body.expected_version, body.keyframes, task_id=body.task_id
    )
    return result.to_json()


@router.delete("/tracks/{track_id}/keyframes/{frame}")
def delete_keyframe(
    track_id: IdPath,
    frame: FramePath,
    expected_version: VersionQuery,
    session: SessionDep,
    actor: CurrentActor,
    task_id: IdQuery = None,
) -> dict[str, Any]:
    result = track_edits.delete_keyframe(session, actor, track_id, expected_version, frame, task_id=task_id)
    return result.to_json()


@router.put("/tracks/{track_id}/life")
def set_life(track_id: IdPath, body: LifeSet, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    result = track_edits.set_life(
        session,
        actor,
        track_id,
        body.expected_version,
        body.first_frame,
        body.last_frame,
        task_id=body.task_id,
    )
    return result.to_json()


@router.post("/tracks/{track_id}/accept-life")
def accept_life(
    track_id: IdPath, body: LifeAccept, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """Accept the proposed life: a person's moving track is continued where its keyframes lead, any other
    track's life set; marked accepted. One edit."""
    result = track_edits.accept_life(
        session,
        actor,
        track_id,
        body.expected_version,
        body.first_frame,
        body.last_frame,
        task_id=body.task_id,
    )
    return result.to_json()


@router.post("/tracks/{track_id}/extend")
def extend_track(
    track_id: IdPath, body: TrackExtend, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """Extend the life to a frame outside it; a moving track's box there goes on where its keyframes lead."""
    result = track_edits.extend_track(
        session, actor, track_id, body.expected_version, body.frame, task_id=body.task_id
    )
    return result.to_json()


@router.put("/tracks/{track_id}/absent")
def set_absent(track_id: IdPath, body: AbsentSet, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    result = track_edits.set_absent(
        session, actor, track_id, body.expected_version, body.frames, body.absent, task_id=body.task_id
    )
    return result.to_json()


@router.post("/tracks/{track_id}/next-check")
def next_check(
    track_id: IdPath, body: CheckRequest, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """The frame of the track to look at next (the editor's check key), given what was judged;
    ``frame`` null once the track is checked. Anyone who sees the scene may ask; nothing is written."""
    return track_checks.next_track_check(
        session,
        actor,
        track_id,
        looked=body.looked,
        right=body.right,
        accepted_ends=body.accepted_ends,
        task_id=body.task_id,
    )


@router.post("/tracks/{track_id}/end-search")
def end_search(
    track_id: IdPath, body: EndSearchRequest, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """One step of the end search (the editor's ``e``, then ``y`` / ``t``): without ``search`` the
    bracket from ``frame``, with it that bracket narrowed by ``here`` at ``frame``; the frame to open
    next, or once closed the life found. Anyone who sees the scene may ask; nothing is written."""
    return track_checks.end_search_step(
        session,
        actor,
        track_id,
        frame=body.frame,
        looked=body.looked,
        right=body.right,
        accepted_ends=body.accepted_ends,
        search=None if body.search is None else body.search.model_dump(),
        here=body.here,
        task_id=body.task_id,
    )


@router.post("/tracks/{track_id}/stationary")
def make_stationary(
    track_id: IdPath, body: MakeStationary, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    result = track_edits.make_stationary(
        session, actor, track_id, body.expected_version, body.pose, task_id=body.task_id
    )
    return result.to_json()


@router.post("/tracks/{track_id}/moving")
def make_moving(
    track_id: IdPath, body: MakeMoving, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    result = track_edits.make_moving(
        session, actor, track_id, body.expected_version, body.keyframes, task_id=body.task_id
    )
    return result.to_json()


@router.post("/tracks/{track_id}/confirm")
def confirm_candidate(
    track_id: IdPath, body: CandidateConfirm, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return track_edits.confirm_candidate(
        session,
        actor,
        track_id,
        body.expected_version,
        keyframes=body.keyframes,
        judged_frame=body.judged_frame,
        task_id=body.task_id,
    ).to_json()


@router.post("/tracks/{track_id}/reject")
def reject_candidate(
    track_id: IdPath, body: Versioned, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    return track_edits.reject_candidate(
        session, actor, track_id, body.expected_version, task_id=body.task_id
    ).to_json()


@router.post("/tracks/{track_id}/reopen")
def reopen_candidate(
    track_id: IdPath, body: Versioned, session: SessionDep, actor: CurrentActor
) -> dict[str, Any]:
    """A confirmed or rejected candidate of an auto:* or candidates:* layer is a candidate again."""
    return track_edits.reopen_candidate(
        session, actor, track_id, body.expected_version, task_id=body.task_id
    ).to_json()


def _decided(result: track_edits.EditResult) -> dict[str, Any]:
    return {key: result.track[key] for key in ("id", "version", "status")}


@router.post("/candidates/reject")
def reject_candidates(body: CandidateBatch, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Reject every named candidate (the editor's "reject every suggested false positive"); all or
    nothing: one refusal and none is rejected. Answers each track's id, new version and status only
    (a scene's suggested false positives run into thousands; their boxes did not change)."""
    results = track_edits.reject_candidates(session, actor, body.items(), task_id=body.task_id)
    return {"tracks": [_decided(r) for r in results]}


@router.post("/candidates/reopen")
def reopen_candidates(body: CandidateBatch, session: SessionDep, actor: CurrentActor) -> dict[str, Any]:
    """Every named candidate is a candidate again (the undo of a batch rejection); all or nothing."""
    results = track_edits.reopen_candidates(session, actor, body.items(), task_id=body.task_id)
    return {"tracks": [_decided(r) for r in results]}


@router.delete("/tracks/{track_id}")
def delete_track(
    track_id: IdPath,
    expected_version: VersionQuery,
    session: SessionDep,
    actor: CurrentActor,
    task_id: IdQuery = None,
) -> dict[str, Any]:
    return track_edits.delete_track(session, actor, track_id, expected_version, task_id=task_id).to_json()
