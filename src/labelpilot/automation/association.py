"""Associate per-frame detections into tracks: predict, gate, assign (Hungarian), update, birth, death.

Detections arrive as flat arrays sorted by frame (``DetectionSet``); only frames that hold at least
one detection are visited (the *observation frames*: every frame of a 10 Hz detector, every 5th
of a 2 Hz tracker on a 10 Hz scene). In each one:

1. every live track is predicted to the frame's time with its constant-velocity Kalman filter;
2. a track and a detection may pair only when their classes agree (a wildcard label such as
   ``unknown`` agrees with anything) and the detection's ground-plane centre lies inside both the
   Mahalanobis gate of the prediction and a metric gate that grows with the time since the track
   was last seen (``gate_base_m + max_speed_mps * dt``);
3. ``scipy.optimize.linear_sum_assignment`` picks the pairs minimising the sum of the negative
   log-likelihoods (squared Mahalanobis distance plus the log of the innovation variance, so a
   well-known track wins a detection over a vague one at the same distance);
4. paired tracks are updated; unpaired detections confident enough start new tracks; a track that
   goes unpaired in more than ``max_misses`` consecutive observation frames ends.

The result records, for every detection, which track took it and that track's filtered state
right after the update, so that tracks can be smoothed afterwards without re-running the filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from labelpilot.automation.kalman import FilterBank, MotionNoise, bev_innovation_variance, predict, update

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

NO_TRACK = -1
_INFEASIBLE = 1e12


@dataclass(frozen=True)
class AssociationParams:
    """Settings of candidate building; the defaults suit 10 Hz scenes and 2-10 Hz auto labels.

    Scores: a layer's raw scores become confidences in [0, 1] (``score_kind``: "probability" uses
    them as they are, "logit" passes them through the logistic function, "auto" picks "probability"
    when every score already lies in [0, 1] and "logit" otherwise). A detection without a score has
    confidence 1. Detections below ``min_confidence`` are ignored; only those at or above
    ``birth_confidence`` may start a track, weaker ones may only extend one.
    """

    wildcard_labels: frozenset[str] = frozenset({"unknown"})
    score_kind: Literal["auto", "probability", "logit"] = "auto"
    min_confidence: float = 0.0
    birth_confidence: float = 0.5
    max_misses: int = 4
    """A track ends after more than this many consecutive observation frames without a detection."""
    min_hits: int = 3
    """Tracks with fewer detections are dropped."""
    gate_chi2: float = 13.8
    """Mahalanobis gate on the 2D centre (chi-square, 2 degrees of freedom, 99.9 %)."""
    gate_base_m: float = 2.0
    max_speed_mps: float = 40.0
    noise: MotionNoise = field(default_factory=MotionNoise)
    source_continuity_bonus: float = 10.0
    """Cost taken off a pair whose detection comes from the same source track as the track's last one
    (a source tracker's ids are evidence; one-frame detections never share a source)."""
    suppress_duplicates: bool = True
    """Drop a detection whose centre lies in the footprint of a more confident one of the frame (``duplicates``)."""
    smooth: bool = True
    """Keyframes from the RTS-smoothed centres (True) or the raw detected centres (False)."""
    frame_period_s: float = 0.1
    """Time step used when a scene's timestamps do not increase (missing timestamps)."""
    length_scale_hits: float = 5.0
    """Track score: a track with this many detections gets 1 - 1/e of the full length factor."""
    support_scale_points: float = 10.0
    """Track score: a mean point support of this many lidar points gets 1 - 1/e of the full support factor."""

    def __post_init__(self) -> None:
        if self.max_misses < 0 or self.min_hits < 1:
            raise ValueError("max_misses must be >= 0 and min_hits >= 1")
        if self.gate_chi2 <= 0 or self.gate_base_m <= 0 or self.max_speed_mps < 0:
            raise ValueError("gates must be positive")
        if self.length_scale_hits <= 0 or self.support_scale_points <= 0 or self.frame_period_s <= 0:
            raise ValueError("scales and the frame period must be positive")


@dataclass(frozen=True, eq=False)
class DetectionSet:
    """N detections in the world frame, sorted by frame.

    ``label_codes`` index ``label_names``; ``wildcard_codes[c]`` says whether label c agrees with every
    class. ``confidences`` are in [0, 1]; ``scores`` are the source's raw scores (NaN where it gave none).
    ``source_ids`` name the source track of each detection. ``yaws`` are the headings of the box x axes
    in the ground plane; ``rotations`` (N, 3, 3) the full box rotations (sources may tilt boxes).
    """

    frames: IntArray
    centers: FloatArray
    yaws: FloatArray
    rotations: FloatArray
    sizes: FloatArray
    scores: FloatArray
    confidences: FloatArray
    label_codes: IntArray
    label_names: tuple[str, ...]
    wildcard_codes: NDArray[np.bool_]
    source_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.frames)
        arrays = (
            self.centers,
            self.yaws,
            self.rotations,
            self.sizes,
            self.scores,
            self.confidences,
            self.label_codes,
        )
        if any(len(a) != n for a in arrays) or len(self.source_ids) != n:
            raise ValueError("detection arrays disagree in length")
        if len(self.wildcard_codes) != len(self.label_names):
            raise ValueError("wildcard_codes needs one flag per label name")
        if n and np.any(np.diff(self.frames) < 0):
            raise ValueError("detections must be sorted by frame")

    def __len__(self) -> int:
        return len(self.frames)


@dataclass(frozen=True, eq=False)
class Association:
    """Which track took each detection (``NO_TRACK`` if none) and the filtered state after that update."""

    track_of: IntArray
    filtered: FilterBank
    track_count: int

    def track_detections(self) -> list[IntArray]:
        """For each track id, its detection indices in frame order."""
        taken = np.flatnonzero(self.track_of != NO_TRACK)
        order = taken[np.argsort(self.track_of[taken], kind="stable")]
        bounds = np.searchsorted(self.track_of[order], np.arange(self.track_count + 1))
        return [order[bounds[i] : bounds[i + 1]].astype(np.int64) for i in range(self.track_count)]


@dataclass
class _LiveTracks:
    """The tracks still alive, one row each; ``sources`` codes the source track of each one's last detection."""

    ids: IntArray
    filters: FilterBank
    last_time: FloatArray
    misses: IntArray
    label_codes: IntArray
    sources: IntArray

    @classmethod
    def none(cls) -> _LiveTracks:
        empty = np.zeros(0, dtype=np.int64)
        return cls(empty, FilterBank.empty(), np.zeros(0), empty.copy(), empty.copy(), empty.copy())

    def keep(self, rows: NDArray[np.bool_]) -> _LiveTracks:
        return _LiveTracks(
            self.ids[rows],
            self.filters.take(rows),
            self.last_time[rows],
            self.misses[rows],
            self.label_codes[rows],
            self.sources[rows],
        )

    def extend(self, other: _LiveTracks) -> _LiveTracks:
        return _LiveTracks(
            np.concatenate([self.ids, other.ids]),
            self.filters.append(other.filters),
            np.concatenate([self.last_time, other.last_time]),
            np.concatenate([self.misses, other.misses]),
            np.concatenate([self.label_codes, other.label_codes]),
            np.concatenate([self.sources, other.sources]),
        )


@dataclass(frozen=True, eq=False)
class _Frame:
    """The detections of one observation frame: rows ``start:stop`` of the set."""

    start: int
    stop: int
    time: float
    usable: NDArray[np.bool_]


def _pair_costs(
    predicted: FilterBank,
    live: _LiveTracks,
    dt: FloatArray,
    dets: DetectionSet,
    source_codes: IntArray,
    frame: _Frame,
    params: AssociationParams,
) -> FloatArray:
    """(T, D) negative log-likelihood of each track-detection pair; ``_INFEASIBLE`` outside the gates."""
    rows = slice(frame.start, frame.stop)
    offsets = dets.centers[rows, None, :2] - predicted.positions[None, :, :2]  # (D, T, 2)
    distance_sq = np.einsum("dtk,dtk->td", offsets, offsets)
    variance = bev_innovation_variance(predicted, params.noise)
    mahalanobis_sq = distance_sq / variance[:, None]
    metric_gate = params.gate_base_m + params.max_speed_mps * dt
    det_codes = dets.label_codes[rows]
    wild = dets.wildcard_codes
    same_class = (
        (live.label_codes[:, None] == det_codes[None, :])
        | wild[live.label_codes][:, None]
        | wild[det_codes][None, :]
    )
    feasible = same_class & (mahalanobis_sq <= params.gate_chi2) & (distance_sq <= metric_gate[:, None] ** 2)
    feasible &= frame.usable[None, :]
    # Both ground-plane axes contribute a log-variance term to the 2D Gaussian likelihood.
    cost = mahalanobis_sq + 2.0 * np.log(variance)[:, None]
    # A source tracker that kept one id across the two detections vouches for the pair.
    cost -= params.source_continuity_bonus * (live.sources[:, None] == source_codes[rows][None, :])
    return np.where(feasible, cost, _INFEASIBLE)


def frame_times(timestamps_us: IntArray, period_s: float) -> FloatArray:
    """Seconds of every frame; frame index times ``period_s`` when timestamps do not increase."""
    stamps = np.asarray(timestamps_us, dtype=np.int64)
    if len(stamps) > 1 and np.all(np.diff(stamps) > 0):
        times: FloatArray = (stamps - stamps[0]).astype(np.float64) / 1e6
        return times
    return np.arange(len(stamps), dtype=np.float64) * period_s


class _Associator:
    """The running state of ``associate``: live tracks and what each detection became."""

    def __init__(self, dets: DetectionSet, params: AssociationParams) -> None:
        n = len(dets)
        self.dets = dets
        self.params = params
        self.track_of = np.full(n, NO_TRACK, dtype=np.int64)
        self.filtered = FilterBank(np.zeros((n, 3, 2)), np.zeros((n, 2, 2)), np.zeros((n, 2, 2)))
        self.source_codes = np.unique(np.asarray(dets.source_ids, dtype=object), return_inverse=True)[1]
        self.live = _LiveTracks.none()
        self.next_id = 0

    def _record(self, det_index: IntArray, track_ids: IntArray, bank: FilterBank) -> None:
        self.track_of[det_index] = track_ids
        self.filtered.mean[det_index] = bank.mean
        self.filtered.cov_xy[det_index] = bank.cov_xy
        self.filtered.cov_z[det_index] = bank.cov_z

    def step(self, frame: _Frame) -> None:
        """Predict, assign and update the live tracks, end the lost ones and start new ones."""
        live, params = self.live, self.params
        dt = frame.time - live.last_time
        predicted = predict(live.filters, dt, params.noise)
        det_matched = np.zeros(frame.stop - frame.start, dtype=bool)
        track_matched = np.zeros(len(live.ids), dtype=bool)
        if len(live.ids):
            cost = _pair_costs(predicted, live, dt, self.dets, self.source_codes, frame, params)
            track_rows, det_cols = linear_sum_assignment(cost)
            good = cost[track_rows, det_cols] < _INFEASIBLE
            track_rows, det_cols = track_rows[good], det_cols[good]
            det_matched[det_cols] = track_matched[track_rows] = True
            det_index = det_cols + frame.start
            corrected = update(predicted.take(track_rows), self.dets.centers[det_index], params.noise)
            live.filters.mean[track_rows] = corrected.mean
            live.filters.cov_xy[track_rows] = corrected.cov_xy
            live.filters.cov_z[track_rows] = corrected.cov_z
            self._record(det_index, live.ids[track_rows], corrected)
            live.sources[track_rows] = self.source_codes[det_index]
            # A wildcard track takes the class of the first specific detection it is paired with.
            codes = self.dets.label_codes[det_index]
            wild = self.dets.wildcard_codes
            adopt = wild[live.label_codes[track_rows]] & ~wild[codes]
            live.label_codes[track_rows[adopt]] = codes[adopt]
        # Matched tracks now hold their state at this time; unmatched ones keep their last update.
        live.last_time = np.where(track_matched, frame.time, live.last_time)
        live.misses = np.where(track_matched, 0, live.misses + 1)
        self.live = live.keep(live.misses <= params.max_misses)
        confident = self.dets.confidences[frame.start : frame.stop] >= params.birth_confidence
        self._births(np.flatnonzero(~det_matched & confident & frame.usable) + frame.start, frame.time)

    def _births(self, births: IntArray, now: float) -> None:
        if len(births) == 0:
            return
        ids = np.arange(self.next_id, self.next_id + len(births), dtype=np.int64)
        self.next_id += len(births)
        bank = FilterBank.born(self.dets.centers[births], self.params.noise)
        self._record(births, ids, bank)
        zeros = np.zeros(len(births), np.int64)
        born = _LiveTracks(
            ids,
            bank,
            np.full(len(births), now),
            zeros,
            self.dets.label_codes[births],
            self.source_codes[births],
        )
        self.live = self.live.extend(born)


def associate(
    dets: DetectionSet, times: FloatArray, params: AssociationParams, usable: NDArray[np.bool_] | None = None
) -> Association:
    """Run the tracker over ``dets``; ``times`` holds the seconds of every scene frame.

    Only ``usable`` detections take part (default: those with at least ``params.min_confidence``).
    """
    if usable is None:
        usable = dets.confidences >= params.min_confidence
    state = _Associator(dets, params)
    frame_values, starts = np.unique(dets.frames, return_index=True)
    ends = np.append(starts[1:], len(dets))[: len(starts)]
    for frame, start, end in zip(frame_values.tolist(), starts.tolist(), ends.tolist(), strict=True):
        if usable[start:end].any():
            state.step(_Frame(start, end, float(times[frame]), usable[start:end]))
    return Association(state.track_of, state.filtered, state.next_id)
