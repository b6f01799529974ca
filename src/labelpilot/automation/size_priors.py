"""Smart size defaults: what size an object of a class usually has, and whether a size is plausible.

Built-in statistics (``BUILTIN_LABEL_SIZES``, ``BUILTIN_FAMILY_SIZES``) are the mean and standard
deviation of length, width and height over the ground-truth tracks of the public data sets the project
ships with, each physical object counted once (a track has one size):

* KITTI tracking training sequences 0000-0010 (``ground_truth`` layers, 442 tracks);
* the four Argoverse 2 sensor log fragments of the av2-api test fixtures (453 tracks).

They were computed with ``size_statistics`` over those layers (``python
benchmarks/bench_automation_stationary.py --print-size-priors`` prints them again, and
tests/automation/test_size_priors.py checks that they still match the data). Labels with fewer than
``MIN_BUILTIN_COUNT`` tracks are left to their class family; family statistics pool every track of
the family's labels. Labels keep their source spelling (KITTI ``Pedestrian`` boxes are measured
differently from Argoverse 2 ``PEDESTRIAN`` ones); lookup tries the exact label, then the label
ignoring case, then the family (``labelpilot.automation.classes``).

``SizePriors.learned`` adapts the defaults to a project: per label, the median and the scaled median
absolute deviation of confirmed tracks' sizes, blended with the built-in values by count
(``n / (n + prior_weight)`` for the learned side), so a handful of tracks nudges the default and a
few hundred replace it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelpilot.automation.classes import ClassFamily, class_family
from labelpilot.tracks import Track, TrackStatus

FloatArray = NDArray[np.float64]

MIN_BUILTIN_COUNT = 3
MAD_TO_SIGMA = 1.4826
_AXES = ("length", "width", "height")

Triple = tuple[float, float, float]

# label: ((mean l, w, h), (std l, w, h), tracks) -- see the module doc for how these were computed.
BUILTIN_LABEL_SIZES: dict[str, tuple[Triple, Triple, int]] = {
    # KITTI tracking, sequences 0000-0010
    "Car": ((3.905, 1.622, 1.522), (0.441, 0.115, 0.127), 358),
    "Cyclist": ((1.726, 0.525, 1.729), (0.149, 0.197, 0.085), 8),
    "Misc": ((3.084, 1.609, 1.816), (1.723, 0.494, 0.694), 8),
    "Pedestrian": ((0.627, 0.591, 1.699), (0.247, 0.162, 0.135), 16),
    "Tram": ((15.802, 2.344, 3.629), (8.133, 0.151, 0.021), 7),
    "Truck": ((8.954, 2.529, 3.239), (2.225, 0.258, 0.474), 12),
    "Van": ((4.903, 1.905, 2.192), (0.721, 0.202, 0.417), 33),
    # Argoverse 2, logs 3b3570b4, 7fab2350, adcf7d18, b87683ae
    "BICYCLE": ((1.637, 0.560, 1.224), (0.087, 0.070, 0.133), 16),
    "BOLLARD": ((0.412, 0.309, 0.925), (0.114, 0.106, 0.199), 51),
    "BOX_TRUCK": ((9.293, 2.742, 3.622), (1.848, 0.308, 0.398), 6),
    "BUS": ((11.008, 3.120, 3.112), (1.077, 0.590, 0.156), 3),
    "CONSTRUCTION_CONE": ((0.370, 0.255, 0.775), (0.153, 0.061, 0.166), 18),
    "MOTORCYCLE": ((1.917, 0.653, 1.301), (0.228, 0.184, 0.156), 7),
    "PEDESTRIAN": ((0.721, 0.803, 1.770), (0.147, 0.198, 0.175), 70),
    "REGULAR_VEHICLE": ((4.429, 1.956, 1.722), (0.597, 0.258, 0.293), 255),
    "SIGN": ((0.394, 1.410, 3.144), (0.150, 0.400, 0.356), 9),
    "TRUCK": ((9.713, 2.760, 3.050), (0.369, 0.212, 0.086), 4),
    "WHEELED_DEVICE": ((1.191, 0.562, 1.460), (0.181, 0.185, 0.470), 7),
}
# Every ground-truth track of both data sets, pooled by class family.
BUILTIN_FAMILY_SIZES: dict[ClassFamily, tuple[Triple, Triple, int]] = {
    ClassFamily.VEHICLE: ((4.492, 1.812, 1.724), (1.875, 0.319, 0.477), 682),
    ClassFamily.PEDESTRIAN: ((0.703, 0.763, 1.757), (0.174, 0.209, 0.170), 86),
    ClassFamily.CYCLIST: ((1.689, 0.583, 1.395), (0.224, 0.151, 0.266), 33),
    ClassFamily.OTHER: ((0.697, 0.542, 1.231), (0.921, 0.514, 0.756), 94),
}


@dataclass(frozen=True, eq=False)
class SizeStats:
    """Mean and standard deviation of (length, width, height) in metres, from ``count`` tracks."""

    mean: FloatArray
    std: FloatArray
    count: int

    @classmethod
    def of(cls, entry: tuple[Triple, Triple, int]) -> SizeStats:
        mean, std, count = entry
        return cls(np.array(mean, dtype=np.float64), np.array(std, dtype=np.float64), count)

    def floored(self) -> FloatArray:
        """The std used for z-scores: at least 5 % of the mean and 5 cm, so tiny samples are not too strict."""
        floored: FloatArray = np.maximum(self.std, np.maximum(0.05 * self.mean, 0.05))
        return floored


@dataclass(frozen=True, eq=False)
class SizeCheck:
    """The outcome of a plausibility check: z-scores per axis and a sentence for a person."""

    implausible: bool
    reason: str
    zscores: FloatArray


def size_statistics(tracks: Iterable[Track], key: str = "label") -> dict[str, SizeStats]:
    """Mean and population std of track sizes per label (``key="label"``) or per family (``"family"``)."""
    groups: dict[str, list[FloatArray]] = defaultdict(list)
    for track in tracks:
        name = track.label if key == "label" else str(class_family(track.label))
        groups[name].append(track.size)
    out = {}
    for name, sizes in sorted(groups.items()):
        arr = np.stack(sizes)
        out[name] = SizeStats(arr.mean(axis=0), arr.std(axis=0), len(arr))
    return out


def _robust_stats(sizes: list[FloatArray]) -> SizeStats:
    arr = np.stack(sizes)
    median = np.median(arr, axis=0)
    spread = MAD_TO_SIGMA * np.median(np.abs(arr - median), axis=0)
    return SizeStats(median, spread, len(arr))


def _blend(learned: SizeStats, base: SizeStats, prior_weight: float) -> SizeStats:
    w = learned.count / (learned.count + prior_weight)
    mean = w * learned.mean + (1.0 - w) * base.mean
    # Mix the two distributions: within-component variances plus the spread between the means.
    variance = w * learned.std**2 + (1.0 - w) * base.std**2 + w * (1.0 - w) * (learned.mean - base.mean) ** 2
    return SizeStats(mean, np.sqrt(variance), learned.count + base.count)


class SizePriors:
    """Size statistics per label with family fallbacks; ``builtin()`` or ``learned(tracks)``."""

    def __init__(self, by_label: Mapping[str, SizeStats], by_family: Mapping[ClassFamily, SizeStats]) -> None:
        missing = set(ClassFamily) - set(by_family)
        if missing:
            raise ValueError(f"size priors need every class family, missing {sorted(missing)}")
        self.by_label = dict(by_label)
        self.by_family = dict(by_family)
        self._folded = {name.strip().lower(): stats for name, stats in self.by_label.items()}

    @classmethod
    def builtin(cls) -> SizePriors:
        labels = {
            name: SizeStats.of(e) for name, e in BUILTIN_LABEL_SIZES.items() if e[2] >= MIN_BUILTIN_COUNT
        }
        return cls(labels, {family: SizeStats.of(e) for family, e in BUILTIN_FAMILY_SIZES.items()})

    @classmethod
    def learned(
        cls,
        tracks: Iterable[Track],
        min_count: int = 5,
        *,
        base: SizePriors | None = None,
        prior_weight: float = 20.0,
    ) -> SizePriors:
        """Priors moved toward the sizes of confirmed ``tracks`` (labels with at least ``min_count`` of them)."""
        start = base or cls.builtin()
        by_label: dict[str, list[FloatArray]] = defaultdict(list)
        by_family: dict[ClassFamily, list[FloatArray]] = defaultdict(list)
        for track in tracks:
            if track.status is TrackStatus.CONFIRMED:
                by_label[track.label].append(track.size)
                by_family[class_family(track.label)].append(track.size)
        labels = dict(start.by_label)
        for name, sizes in by_label.items():
            if len(sizes) >= min_count:
                labels[name] = _blend(_robust_stats(sizes), start.stats(name), prior_weight)
        families = dict(start.by_family)
        for family, sizes in by_family.items():
            if len(sizes) >= min_count:
                families[family] = _blend(_robust_stats(sizes), start.by_family[family], prior_weight)
        return cls(labels, families)

    def stats(self, label: str) -> SizeStats:
        """Statistics of ``label``: exact name, then ignoring case, then its class family."""
        found = self.by_label.get(label) or self._folded.get(label.strip().lower())
        return found if found is not None else self.by_family[class_family(label)]

    def default_size(self, label: str) -> FloatArray:
        """The size to draw a new box of ``label`` with: (length, width, height) in metres."""
        return self.stats(label).mean.copy()

    def zscore(self, label: str, size: ArrayLike) -> FloatArray:
        """(size - mean) / std per axis, with the floored std of ``SizeStats.floored``."""
        stats = self.stats(label)
        z: FloatArray = (np.asarray(size, dtype=np.float64).reshape(3) - stats.mean) / stats.floored()
        return z

    def check(self, label: str, size: ArrayLike, z: float = 3.0) -> SizeCheck:
        """Whether any axis lies more than ``z`` standard deviations from the class mean, and why."""
        values = np.asarray(size, dtype=np.float64).reshape(3)
        stats = self.stats(label)
        scores = self.zscore(label, values)
        if not np.all(np.isfinite(values)) or np.any(values <= 0.0):
            return SizeCheck(
                True, f"{label} size {values.round(2).tolist()} has a non-positive or missing side", scores
            )
        worst = int(np.argmax(np.abs(scores)))
        if abs(scores[worst]) <= z:
            return SizeCheck(
                False, f"{label} size is within {z:g} sd of the usual size on every side", scores
            )
        direction = "above" if scores[worst] > 0 else "below"
        reason = (
            f"{label} {_AXES[worst]} {values[worst]:.2f} m is {abs(scores[worst]):.1f} sd {direction} "
            f"the usual {stats.mean[worst]:.2f} +/- {stats.floored()[worst]:.2f} m"
        )
        return SizeCheck(True, reason, scores)

    def is_implausible(self, label: str, size: ArrayLike, z: float = 3.0) -> bool:
        return self.check(label, size, z).implausible
