"""How candidates, raw detections and source trackers are measured against ground truth (tests and benchmarks).

KITTI (class-aware, KITTI's own ignore rules): Car -> vehicle (2 m), Pedestrian -> pedestrian (1 m),
Cyclist -> cyclist (1 m); Van, Truck, Tram, Misc and Person_sitting are ignored (a hypothesis on them is
neither right nor wrong; KITTI's car benchmark treats Van the same way). DontCare regions are 2D only
and play no part.

Argoverse 2 (class-agnostic: the tracker gives no classes): every category is truth, vehicles matched
within 2 m and everything else within 1 m; a box with no lidar point inside (``num_interior_pts`` 0)
cannot be seen by a lidar detector and is ignored at that frame.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from labelpilot.automation.association import AssociationParams
from labelpilot.automation.detections import layer_detections
from labelpilot.scenes import Scene
from labelpilot.tracks import AnnotationLayer, Keyframed, Track
from tests.automation.tracking_metrics import (
    ANY,
    DEFAULT_THRESHOLDS,
    IGNORE,
    ClearCounts,
    FrameObjects,
    Objects,
    average_precision,
    evaluate,
    objects_from_layer,
)

KITTI_GROUPS = {"Car": "vehicle", "Pedestrian": "pedestrian", "Cyclist": "cyclist"}
KITTI_IGNORED = {"Van", "Truck", "Tram", "Misc", "Person_sitting"}
AV2_VEHICLES = {
    "REGULAR_VEHICLE", "LARGE_VEHICLE", "BUS", "BOX_TRUCK", "TRUCK", "TRUCK_CAB", "VEHICULAR_TRAILER",
    "SCHOOL_BUS", "ARTICULATED_BUS", "MESSAGE_BOARD_TRAILER", "RAILED_VEHICLE",
}  # fmt: skip
AV2_THRESHOLDS = {"vehicle": 2.0, "other": 1.0}


def track_score(track: Track, _frame: int) -> float:
    return float(track.score) if track.score is not None else 0.0


def kitti_truth(scene: Scene) -> Objects:
    def group(track: Track, _frame: int) -> str | None:
        if track.label in KITTI_IGNORED:
            return IGNORE
        return KITTI_GROUPS.get(track.label)

    return objects_from_layer(scene.layer("ground_truth"), group)


def kitti_hypotheses(layer: AnnotationLayer | Iterable[Track]) -> Objects:
    return objects_from_layer(layer, lambda t, _f: KITTI_GROUPS.get(t.label), score_of=track_score)


def av2_truth(scene: Scene, frames: Iterable[int] | None = None) -> Objects:
    def group(track: Track, frame: int) -> str:
        if track.frame_attributes.get(frame, {}).get("num_interior_pts", 1) == 0:
            return IGNORE
        return "vehicle" if track.label in AV2_VEHICLES else "other"

    return objects_from_layer(scene.layer("ground_truth"), group, frames)


def av2_hypotheses(layer: AnnotationLayer | Iterable[Track], frames: Iterable[int] | None = None) -> Objects:
    return objects_from_layer(layer, lambda _t, _f: ANY, frames, score_of=track_score)


def independent_boxes(scene: Scene, layer: AnnotationLayer, group_of: dict[str, str] | None) -> Objects:
    """Every observed box of ``layer`` as its own one-frame object (raw detections, no association)."""
    dets = layer_detections(scene, layer, AssociationParams())
    out: dict[int, FrameObjects] = {}
    for i in range(len(dets)):
        label = dets.label_names[int(dets.label_codes[i])]
        group = ANY if group_of is None else group_of.get(label)
        if group is None:
            continue
        bucket = out.setdefault(int(dets.frames[i]), FrameObjects())
        bucket.ids.append(f"det-{i}")
        bucket.centers.append(dets.centers[i, :2])
        bucket.groups.append(group)
        bucket.scores.append(float(dets.scores[i]) if dets.scores[i] == dets.scores[i] else 0.0)
    return out


def keyframe_frames(layer: AnnotationLayer) -> list[int]:
    """Frames where a layer's keyframed tracks have keyframes (the 2 Hz grid of the AV2 tracker)."""
    return sorted({f for t in layer for f in (t.motion.keyframes if isinstance(t.motion, Keyframed) else [])})


@dataclass(frozen=True)
class Measured:
    """One hypothesis set against the truth."""

    name: str
    counts: ClearCounts
    ap: float

    def row(self) -> dict[str, float]:
        return {**self.counts.as_dict(), "AP": self.ap}


def measure(
    name: str,
    truth: Objects,
    hyp: Objects,
    thresholds: dict[str, float] = DEFAULT_THRESHOLDS,
    frames: Iterable[int] | None = None,
) -> Measured:
    """Metrics over ``frames`` (default: every frame where either side has a box)."""
    if frames is not None:
        wanted = set(frames)
        truth = {f: v for f, v in truth.items() if f in wanted}
        hyp = {f: v for f, v in hyp.items() if f in wanted}
    return Measured(name, evaluate(truth, hyp, thresholds), average_precision(truth, hyp, thresholds))


def only_group(objects: Objects, group: str) -> Objects:
    """The boxes of one class group (and the ignored truth, which stays ignored)."""
    out: Objects = {}
    for frame, o in objects.items():
        keep = [i for i, g in enumerate(o.groups) if g in (group, IGNORE, ANY)]
        out[frame] = FrameObjects(
            [o.ids[i] for i in keep],
            [o.centers[i] for i in keep],
            [o.groups[i] for i in keep],
            [o.scores[i] for i in keep],
        )
    return out
