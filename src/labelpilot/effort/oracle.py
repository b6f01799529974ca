"""What the simulated annotator may learn about ground truth, and only by paying for a look.

EFFORT_MODEL.md rule 2: ground truth may be used only in a frame the annotator has paid to look at,
and only for what that look covers. Every method here charges the ledger for the look it stands for,
and ``measured``/``corrected`` (the shape a paid drawing or correction produces) refuse an object and
frame that no paid look has shown: a workflow that cheats fails loudly instead of scoring well.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from labelpilot.effort.ground_truth import GroundTruth, GroundTruthObject
from labelpilot.effort.ledger import Ledger
from labelpilot.effort.prices import ActionName
from labelpilot.geometry import Cuboid, CuboidBatch, bev_iou, iou_3d_pairs
from labelpilot.guidance.coverage import match_distance

DIMENSIONS = ("length", "width", "height")
Correction = str
"""``move``, ``rotate``, ``resize:length`` / ``resize:width`` / ``resize:height`` or ``set_class``."""


class HonestyError(RuntimeError):
    """A workflow asked for ground truth that no paid look has shown it."""


@dataclass(frozen=True)
class Verdict:
    """What one inspection shows: which object the shape is on, whether it passes, and the cheapest
    corrections that make it pass (empty when it passes). ``object_id`` is None for a false shape;
    ``present`` is False when the expected object is not in this frame."""

    object_id: str | None
    present: bool
    passes: bool
    corrections: tuple[Correction, ...] = ()


def correction_action(correction: Correction) -> ActionName:
    if correction.startswith("resize"):
        return "resize"
    if correction in ("move", "rotate", "set_class"):
        return correction  # type: ignore[return-value]
    raise ValueError(f"unknown correction {correction!r}")


def _candidates(shape: Cuboid, truth: Cuboid) -> tuple[list[tuple[str, ...]], CuboidBatch]:
    """Every subset of geometric corrections, cheapest first, and the shape each would give."""
    parts = ("move", "rotate", *(f"resize:{d}" for d in DIMENSIONS))
    subsets = [c for n in range(len(parts) + 1) for c in itertools.combinations(parts, n)]
    centers, sizes, quats = [], [], []
    for subset in subsets:
        centers.append(truth.center if "move" in subset else shape.center)
        quats.append(truth.quat_xyzw if "rotate" in subset else shape.quat_xyzw)
        size = shape.size.copy()
        for i, name in enumerate(DIMENSIONS):
            if f"resize:{name}" in subset:
                size[i] = truth.size[i]
        sizes.append(size)
    return subsets, CuboidBatch(np.stack(centers), np.stack(sizes), np.stack(quats))


def cheapest_corrections(shape: Cuboid, truth: Cuboid, threshold: float) -> tuple[str, ...]:
    """The fewest corrections (each costs the same) after which ``shape`` passes against ``truth``."""
    subsets, variants = _candidates(shape, truth)
    truths = CuboidBatch(
        np.repeat(truth.center[None], len(subsets), axis=0),
        np.repeat(truth.size[None], len(subsets), axis=0),
        np.repeat(truth.quat_xyzw[None], len(subsets), axis=0),
    )
    ious = iou_3d_pairs(variants, truths)
    for subset, iou in zip(subsets, ious, strict=True):
        if iou >= threshold:
            return subset
    return subsets[-1]  # all of them reproduce the truth exactly


def apply_corrections(shape: Cuboid, truth: Cuboid, corrections: Sequence[Correction]) -> Cuboid:
    size = shape.size.copy()
    for i, name in enumerate(DIMENSIONS):
        if f"resize:{name}" in corrections:
            size[i] = truth.size[i]
    return Cuboid(
        truth.center if "move" in corrections else shape.center,
        size,
        truth.quat_xyzw if "rotate" in corrections else shape.quat_xyzw,
    )


class Oracle:
    """The annotator's eyes on ground truth; every look is charged to ``ledger``."""

    def __init__(self, truth: GroundTruth, ledger: Ledger) -> None:
        self.truth = truth
        self.ledger = ledger
        self._seen: set[tuple[str, int]] = set()

    # -- what the shapes on screen are -------------------------------------------------------------
    def _identify(self, shape: Cuboid, frame: int) -> GroundTruthObject | None:
        """The object a person would say this box is meant for: the one it overlaps most, else the
        nearest within the class's match distance."""
        ids = self.truth.at_frame(frame)
        if not ids:
            return None
        objects = [self.truth.objects[i] for i in ids]
        truths = [o.shape(frame) for o in objects]
        batch = CuboidBatch.from_cuboids([t for t in truths if t is not None])
        overlaps = bev_iou(CuboidBatch.from_cuboids([shape]), batch)[0]
        best = int(np.argmax(overlaps))
        if overlaps[best] > 0:
            return objects[best]
        distances = np.linalg.norm(batch.centers[:, :2] - shape.center[None, :2], axis=1)
        nearest = int(np.argmin(distances))
        if distances[nearest] <= match_distance(objects[nearest].label):
            return objects[nearest]
        return None

    def _judge(self, obj: GroundTruthObject, shape: Cuboid, label: str, frame: int) -> Verdict:
        truth = obj.shape(frame)
        if truth is None:
            return Verdict(obj.object_id, present=False, passes=False)
        self._seen.add((obj.object_id, frame))
        geometric = cheapest_corrections(shape, truth, obj.threshold)
        fixes = (*geometric, "set_class") if label != obj.label else geometric
        return Verdict(obj.object_id, present=True, passes=not fixes, corrections=fixes)

    # -- paid looks -----------------------------------------------------------------------------------
    def inspect(self, shape: Cuboid, label: str, frame: int, object_id: str | None = None) -> Verdict:
        """Look at one shape in one frame (``inspect``). With ``object_id`` the annotator judges it
        against the object it is following; without, it sees which object (if any) the box is on."""
        if object_id is None:
            found = self._identify(shape, frame)
            self.ledger.charge("inspect", found.object_id if found else None)
            if found is None:
                return Verdict(None, present=False, passes=False)
            return self._judge(found, shape, label, frame)
        self.ledger.charge("inspect", object_id)
        return self._judge(self.truth.objects[object_id], shape, label, frame)

    def look_for(self, object_id: str, frame: int) -> bool:
        """Look whether a known object is in ``frame`` where it has no shape yet (``inspect``)."""
        self.ledger.charge("inspect", object_id)
        present = self.truth.objects[object_id].row(frame) is not None
        if present:
            self._seen.add((object_id, frame))
        return present

    def scan(self, frame: int, shapes: Sequence[Cuboid]) -> list[str]:
        """Look over a whole frame (``scan_frame``): the objects in it that no shown shape is on."""
        self.ledger.charge("scan_frame")
        covered = {found.object_id for s in shapes if (found := self._identify(s, frame)) is not None}
        missing = [i for i in self.truth.at_frame(frame) if i not in covered]
        self._seen.update((i, frame) for i in missing)
        return missing

    # -- what a paid drawing or correction produces ------------------------------------------------
    def _require_seen(self, object_id: str, frame: int) -> Cuboid:
        if (object_id, frame) not in self._seen:
            raise HonestyError(f"object {object_id} in frame {frame} was never looked at")
        shape = self.truth.objects[object_id].shape(frame)
        assert shape is not None  # only present objects are recorded as seen
        return shape

    def measured(self, object_id: str, frame: int) -> Cuboid:
        """The box a person draws for an object it has looked at in this frame."""
        return self._require_seen(object_id, frame)

    def label(self, object_id: str, frame: int) -> str:
        self._require_seen(object_id, frame)
        return self.truth.objects[object_id].label

    def corrected(
        self, shape: Cuboid, object_id: str, frame: int, corrections: Sequence[Correction]
    ) -> Cuboid:
        """``shape`` after the corrections a paid inspection asked for."""
        return apply_corrections(shape, self._require_seen(object_id, frame), corrections)
