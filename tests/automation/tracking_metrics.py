"""Multi-object tracking metrics for evaluating candidates against ground truth (tests and benchmarks only).

Matching is on the ground-plane (BEV) centre distance in the world frame: a hypothesis box can match a
ground-truth box of the same class group in the same frame when their centres are closer than the
group's threshold (2 m for vehicles, 1 m for pedestrians and cyclists by default). A hypothesis whose
label is a wildcard (e.g. ``unknown``) matches any group.

CLEAR MOT (Bernardin and Stiefelhagen 2008), as in the common implementations:
* per frame, a ground-truth object keeps the hypothesis it was matched to in the previous frame when
  that pair is still within the threshold; the rest is assigned by minimum total distance (Hungarian);
* an ID switch is a ground-truth object matched to a hypothesis id other than the one it was last matched to;
* MOTA = 1 - (FN + FP + IDSW) / GT, MOTP = mean centre distance of the matches.
Ignored ground truth (e.g. KITTI Van for cars, AV2 boxes without lidar points) is neither a miss nor
a match: a hypothesis left unmatched but within the threshold of an ignored box is dropped, not counted
as a false positive (KITTI's convention). The same dropped hypotheses are left out of IDF1.

IDF1 (Ristani et al. 2016): ids are paired one-to-one over the whole sequence to maximise the number of
frames where a paired ground truth and hypothesis lie within the threshold (Hungarian on the id-pair
co-occurrence counts); IDF1 = 2 IDTP / (GT detections + hypothesis detections).

``average_precision``: every hypothesis box ranked by a score, matched greedily per frame in score
order, the area under the precision-recall curve with precision made monotone (all-point VOC style).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from labelpilot.tracks import AnnotationLayer, Track, world_shapes

FloatArray = NDArray[np.float64]
IGNORE = "__ignore__"
ANY = "__any__"
DEFAULT_THRESHOLDS = {"vehicle": 2.0, "pedestrian": 1.0, "cyclist": 1.0}


@dataclass
class FrameObjects:
    """The boxes of one side (truth or hypothesis) in one frame."""

    ids: list[str] = field(default_factory=list)
    centers: list[FloatArray] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)


Objects = dict[int, FrameObjects]
GroupOf = Callable[[Track, int], str | None]
"""The class group of a track at a frame; IGNORE for ignored truth, ANY for a wildcard, None to leave it out."""


def objects_from_layer(
    layer: AnnotationLayer | Iterable[Track],
    group_of: GroupOf,
    frames: Iterable[int] | None = None,
    score_of: Callable[[Track, int], float] | None = None,
) -> Objects:
    """BEV centres of every track of ``layer`` at every frame where it has a shape (or only ``frames``)."""
    wanted = None if frames is None else sorted(set(frames))
    out: Objects = defaultdict(FrameObjects)
    for track in layer:
        shapes = world_shapes(track, wanted)
        for frame, center in zip(shapes.frames.tolist(), shapes.cuboids.centers, strict=True):
            group = group_of(track, frame)
            if group is None:
                continue
            bucket = out[frame]
            bucket.ids.append(track.track_id)
            bucket.centers.append(center[:2])
            bucket.groups.append(group)
            bucket.scores.append(score_of(track, frame) if score_of else 0.0)
    return dict(out)


def _distances(truth: FrameObjects, hyp: FrameObjects) -> FloatArray:
    if not truth.ids or not hyp.ids:
        return np.zeros((len(truth.ids), len(hyp.ids)))
    t = np.stack(truth.centers)
    h = np.stack(hyp.centers)
    distance: FloatArray = np.linalg.norm(t[:, None, :] - h[None, :, :], axis=2)
    return distance


def _allowed(
    truth: FrameObjects, hyp: FrameObjects, distance: FloatArray, thresholds: Mapping[str, float]
) -> NDArray[np.bool_]:
    """(G, H) pairs within the truth group's threshold and of compatible groups (IGNORE truth included)."""
    limits = np.array([thresholds.get(g, max(thresholds.values())) for g in truth.groups])
    same = np.array(
        [[hg in (tg, ANY) or tg == IGNORE for hg in hyp.groups] for tg in truth.groups], dtype=bool
    )
    if distance.size == 0:
        return np.zeros(distance.shape, dtype=bool)
    return same.reshape(distance.shape) & (distance < limits[:, None])


@dataclass
class ClearCounts:
    gt: int = 0
    matches: int = 0
    false_positives: int = 0
    misses: int = 0
    id_switches: int = 0
    distance_sum: float = 0.0
    ignored_hyps: int = 0
    hyp: int = 0
    idtp: int = 0
    gt_ids: int = 0
    hyp_ids: int = 0

    @property
    def mota(self) -> float:
        return 1.0 - (self.misses + self.false_positives + self.id_switches) / max(self.gt, 1)

    @property
    def motp(self) -> float:
        return self.distance_sum / max(self.matches, 1)

    @property
    def precision(self) -> float:
        return self.matches / max(self.matches + self.false_positives, 1)

    @property
    def recall(self) -> float:
        return self.matches / max(self.gt, 1)

    @property
    def idf1(self) -> float:
        return 2.0 * self.idtp / max(self.gt + self.hyp, 1)

    def as_dict(self) -> dict[str, float]:
        return {
            "MOTA": self.mota, "IDF1": self.idf1, "precision": self.precision, "recall": self.recall,
            "IDSW": float(self.id_switches), "FP": float(self.false_positives), "FN": float(self.misses),
            "GT": float(self.gt), "MOTP_m": self.motp, "gt_ids": float(self.gt_ids), "hyp_ids": float(self.hyp_ids),
        }  # fmt: skip


def evaluate(
    truth: Objects, hyp: Objects, thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS
) -> ClearCounts:
    """CLEAR MOT and IDF1 of ``hyp`` against ``truth`` over the union of their frames."""
    counts = ClearCounts()
    last_match: dict[str, str] = {}  # truth id -> hypothesis id it was last matched to
    previous: dict[str, str] = {}  # matches of the previous evaluated frame
    co_occurrence: dict[tuple[str, str], int] = defaultdict(int)
    gt_frames: dict[str, int] = defaultdict(int)
    hyp_frames: dict[str, int] = defaultdict(int)
    for frame in sorted(set(truth) | set(hyp)):
        t = truth.get(frame, FrameObjects())
        h = hyp.get(frame, FrameObjects())
        distance = _distances(t, h)
        allowed = _allowed(t, h, distance, thresholds)
        valid = np.array([g != IGNORE for g in t.groups], dtype=bool)
        matched = _clear_matches(t, h, distance, allowed & valid[:, None], previous)
        current: dict[str, str] = {}
        hyp_used = np.zeros(len(h.ids), dtype=bool)
        for gi, hi in matched:
            gid, hid = t.ids[gi], h.ids[hi]
            if gid in last_match and last_match[gid] != hid:
                counts.id_switches += 1
            last_match[gid] = current[gid] = hid
            counts.distance_sum += float(distance[gi, hi])
            hyp_used[hi] = True
        previous = current
        near_ignored = allowed[~valid].any(axis=0) if (~valid).any() else np.zeros(len(h.ids), dtype=bool)
        dropped = ~hyp_used & near_ignored
        counts.gt += int(valid.sum())
        counts.matches += len(matched)
        counts.misses += int(valid.sum()) - len(matched)
        counts.false_positives += int((~hyp_used & ~dropped).sum())
        counts.ignored_hyps += int(dropped.sum())
        counts.hyp += int((~dropped).sum())
        for gi in np.flatnonzero(valid):
            gt_frames[t.ids[gi]] += 1
        kept = np.flatnonzero(~dropped)
        for hi in kept:
            hyp_frames[h.ids[hi]] += 1
        for gi, hi in zip(*np.nonzero(allowed & valid[:, None]), strict=True):
            if not dropped[hi]:
                co_occurrence[(t.ids[gi], h.ids[hi])] += 1
    counts.idtp = _id_true_positives(co_occurrence, gt_frames, hyp_frames)
    counts.gt_ids, counts.hyp_ids = len(gt_frames), len(hyp_frames)
    return counts


def _clear_matches(
    t: FrameObjects,
    h: FrameObjects,
    distance: FloatArray,
    allowed: NDArray[np.bool_],
    previous: Mapping[str, str],
) -> list[tuple[int, int]]:
    matched: list[tuple[int, int]] = []
    free_t = np.ones(len(t.ids), dtype=bool)
    free_h = np.ones(len(h.ids), dtype=bool)
    hyp_index = {hid: i for i, hid in enumerate(h.ids)}
    for gi, gid in enumerate(t.ids):
        hi = hyp_index.get(previous.get(gid, ""), -1)
        if hi >= 0 and allowed[gi, hi] and free_h[hi]:
            matched.append((gi, hi))
            free_t[gi] = free_h[hi] = False
    rows, cols = np.flatnonzero(free_t), np.flatnonzero(free_h)
    if len(rows) and len(cols):
        sub_allowed = allowed[np.ix_(rows, cols)]
        cost = np.where(sub_allowed, distance[np.ix_(rows, cols)], 1e9)
        r, c = linear_sum_assignment(cost)
        matched.extend((int(rows[i]), int(cols[j])) for i, j in zip(r, c, strict=True) if sub_allowed[i, j])
    return matched


def _id_true_positives(
    co_occurrence: Mapping[tuple[str, str], int], gt_frames: Mapping[str, int], hyp_frames: Mapping[str, int]
) -> int:
    if not co_occurrence:
        return 0
    gt_index = {g: i for i, g in enumerate(gt_frames)}
    hyp_index = {h: i for i, h in enumerate(hyp_frames)}
    weights = np.zeros((len(gt_index), len(hyp_index)))
    for (g, h), n in co_occurrence.items():
        weights[gt_index[g], hyp_index[h]] = n
    rows, cols = linear_sum_assignment(weights, maximize=True)
    return int(weights[rows, cols].sum())


def average_precision(
    truth: Objects, hyp: Objects, thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS
) -> float:
    """Detection AP of the hypothesis boxes ranked by their scores (see the module docstring)."""
    entries: list[tuple[float, int, int]] = [
        (score, frame, i) for frame, h in hyp.items() for i, score in enumerate(h.scores)
    ]
    entries.sort(key=lambda e: -e[0])
    total_gt = sum(sum(g != IGNORE for g in t.groups) for t in truth.values())
    taken: dict[int, NDArray[np.bool_]] = {}
    allowed_of: dict[int, tuple[NDArray[np.bool_], FloatArray, NDArray[np.bool_]]] = {}
    hits: list[bool] = []
    for _score, frame, hi in entries:
        if frame not in allowed_of:
            t = truth.get(frame, FrameObjects())
            distance = _distances(t, hyp[frame])
            valid = np.array([g != IGNORE for g in t.groups], dtype=bool)
            allowed_of[frame] = (_allowed(t, hyp[frame], distance, thresholds), distance, valid)
            taken[frame] = np.zeros(len(t.ids), dtype=bool)
        allowed, distance, valid = allowed_of[frame]
        options = np.flatnonzero(allowed[:, hi] & valid & ~taken[frame]) if allowed.size else np.zeros(0, int)
        if len(options):
            best = options[np.argmin(distance[options, hi])]
            taken[frame][best] = True
            hits.append(True)
        elif allowed.size and (allowed[:, hi] & ~valid).any():
            continue  # near an ignored box: neither right nor wrong
        else:
            hits.append(False)
    if total_gt == 0 or not hits:
        return 0.0
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / total_gt
    # Precision envelope (monotone non-increasing), then the area under the step curve.
    envelope = np.maximum.accumulate(precision[::-1])[::-1]
    steps = np.diff(np.concatenate([[0.0], recall]))
    return float(np.sum(steps * envelope))


def merge_objects(parts: Iterable[Objects], frame_stride: int = 1_000_000) -> Objects:
    """Several sequences as one: frames offset by ``frame_stride`` per part, ids prefixed by the part number."""
    merged: Objects = {}
    for n, part in enumerate(parts):
        for frame, objects in part.items():
            merged[n * frame_stride + frame] = FrameObjects(
                [f"{n}:{i}" for i in objects.ids], objects.centers, objects.groups, objects.scores
            )
    return merged
