"""Every live track of one layer, as the editor loads it: the same JSON a track edit answers.

The editor keeps a track and its derived world-frame shapes per track id and replaces both after each
edit; loading a layer in that shape lets it treat "load" and "edit" alike.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from labelpilot.services.actors import Actor
from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.services.scene_access import layer_row, visible_scene
from labelpilot.services.track_edit_store import EditResult, track_json
from labelpilot.store.tables import KeyframeRow, TrackRow
from labelpilot.tracks import world_shapes


def layer_tracks(session: Session, actor: Actor, scene_id: int, layer: str) -> list[dict[str, Any]]:
    """``[{"track", "shapes"}]`` for every track of the layer that is not deleted, by id.

    Anyone who sees the scene may read any of its layers; an unknown layer is NotFoundError.
    """
    scene = visible_scene(session, actor, scene_id)
    layer_id = layer_row(session, scene, layer).id
    live = (TrackRow.layer_id == layer_id, TrackRow.deleted.is_(False))
    rows = list(session.scalars(select(TrackRow).where(*live).order_by(TrackRow.id)))
    # One query for the keyframes of the whole layer (a join, so no id list to chunk).
    keyframes: dict[int, list[StoredKeyframe]] = defaultdict(list)
    stored = session.execute(
        select(KeyframeRow.track_id, KeyframeRow.frame, KeyframeRow.world_pose)
        .join(TrackRow, TrackRow.id == KeyframeRow.track_id)
        .where(*live)
        .order_by(KeyframeRow.track_id, KeyframeRow.frame)
    )
    for track_id, frame, pose in stored:
        keyframes[track_id].append(StoredKeyframe(int(frame), list(pose)))
    results: list[dict[str, Any]] = []
    for row in rows:
        own = keyframes[row.id]
        model = track_from_rows(row, own)
        as_json = track_json(row, {k.frame: k.world_pose for k in own})
        results.append(EditResult(as_json, world_shapes(model), model=model).to_json())
    return results
