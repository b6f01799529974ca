"""Re-associate fragments of one object across a gap in its detections.

The frame-to-frame association ends a track after ``max_misses`` observation frames without a
detection, so an object the detector loses for a second (occluded by a passing car, a weak stretch
of returns) comes back as a second track, and a person confirms, corrects and finds the life of
both. Offline, the whole sequence is known: a fragment that starts after another one ended, where
the first one's motion carried on would put it, is the same object.

For a fragment A that ends at time ``t_a`` and a fragment B that starts at ``t_b`` with
``0 < t_b - t_a <= max_gap_s``, the gap is bridged by the mean of the two velocities at the ends
(trapezoidal motion): the error is ``|p_a + (v_a + v_b) / 2 * dt - p_b|`` in the ground plane. The
pair may join when that error stays within ``gate_m + gate_m_per_s * dt`` (the gap's own
uncertainty grows with its length), their labels agree (a wildcard agrees with every label) and
the bridging speed is possible. Pairs join greedily by error, each fragment with at most one
predecessor and one successor, so chains of fragments become one track.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class StitchParams:
    max_gap_s: float = 2.0
    """Longest gap between two fragments of one object (seconds)."""
    gate_m: float = 1.0
    """Bridging error (m) allowed for a gap of no length."""
    gate_m_per_s: float = 1.0
    """Further error (m) allowed per second of gap."""
    min_fragment_hits: int = 2
    """Fragments with fewer detections carry no velocity to bridge with and are not joined."""

    def __post_init__(self) -> None:
        if self.max_gap_s < 0 or self.gate_m <= 0 or self.gate_m_per_s < 0 or self.min_fragment_hits < 1:
            raise ValueError(
                "stitching needs max_gap_s >= 0, gate_m > 0, gate_m_per_s >= 0, min_fragment_hits >= 1"
            )


@dataclass(frozen=True)
class FragmentEnds:
    """What stitching needs of one fragment: its label, hits and smoothed state at both ends.

    Positions and velocities are world-frame ground-plane vectors (x, y)."""

    label: str
    hits: int
    start_time: float
    start_position: FloatArray
    start_velocity: FloatArray
    end_time: float
    end_position: FloatArray
    end_velocity: FloatArray


def _labels_agree(a: str, b: str, wildcards: frozenset[str]) -> bool:
    return a == b or a in wildcards or b in wildcards


def bridging_error(a: FragmentEnds, b: FragmentEnds) -> float:
    """Ground-plane distance (m) between B's start and where A's motion, averaged with B's, puts it."""
    dt = b.start_time - a.end_time
    predicted = a.end_position + 0.5 * (a.end_velocity + b.start_velocity) * dt
    return float(np.linalg.norm(predicted - b.start_position))


def stitch(
    fragments: Sequence[FragmentEnds],
    params: StitchParams,
    wildcards: frozenset[str] = frozenset(),
    max_speed_mps: float = 40.0,
) -> list[list[int]]:
    """Groups of fragment indices, each one object, in time order; every fragment is in exactly one."""
    pairs: list[tuple[float, int, int]] = []
    usable = [i for i, f in enumerate(fragments) if f.hits >= params.min_fragment_hits]
    by_start = sorted(usable, key=lambda i: fragments[i].start_time)
    starts = [fragments[i].start_time for i in by_start]
    for i in usable:
        a = fragments[i]
        # Only fragments starting within the gap after A's end can follow it.
        lo = bisect.bisect_right(starts, a.end_time)
        hi = bisect.bisect_right(starts, a.end_time + params.max_gap_s)
        for j in by_start[lo:hi]:
            b = fragments[j]
            dt = b.start_time - a.end_time
            if not 0.0 < dt <= params.max_gap_s:
                continue
            if not _labels_agree(a.label, b.label, wildcards):
                continue
            if np.linalg.norm(b.start_position - a.end_position) > max_speed_mps * dt:
                continue
            error = bridging_error(a, b)
            if error <= params.gate_m + params.gate_m_per_s * dt:
                pairs.append((error, i, j))
    successor: dict[int, int] = {}
    predecessor: dict[int, int] = {}
    for _, i, j in sorted(pairs):
        if i in successor or j in predecessor:
            continue
        successor[i] = j
        predecessor[j] = i
    groups: list[list[int]] = []
    for i in range(len(fragments)):
        if i in predecessor:
            continue
        chain = [i]
        while chain[-1] in successor:
            chain.append(successor[chain[-1]])
        groups.append(chain)
    return groups
