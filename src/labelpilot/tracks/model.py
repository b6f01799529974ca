"""Tracks: one physical object over time, with one size and a motion in the world frame.

Per-frame cuboids are derived (see ``interpolation``) and never stored as the source of truth.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelpilot.geometry import Pose

FloatArray = NDArray[np.float64]
AttributeValue = str | int | float | bool


class TrackStatus(StrEnum):
    CANDIDATE = "candidate"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Provenance:
    """Where a track came from: drawn by a person, imported, or a candidate from an auto-label layer."""

    kind: Literal["manual", "imported", "candidate"]
    source: str | None = None


@dataclass(frozen=True, eq=False)
class Stationary:
    """An object that does not move: one box pose in the world frame for its whole life."""

    world_pose: Pose


@dataclass(frozen=True, eq=False)
class Keyframed:
    """An object that moves: world poses at some frames, interpolated in between."""

    keyframes: Mapping[int, Pose]

    def __post_init__(self) -> None:
        if not self.keyframes:
            raise ValueError("a keyframed motion needs at least one keyframe")
        object.__setattr__(self, "keyframes", dict(sorted(self.keyframes.items())))

    @property
    def frames(self) -> list[int]:
        return list(self.keyframes)


Motion = Stationary | Keyframed


@dataclass(eq=False)
class Track:
    """A labelled object.

    ``first_frame``..``last_frame`` (inclusive) is the object's life; ``absent_frames`` are frames inside it
    where the object has no shape (e.g. fully occluded and left unlabelled by the source).
    ``frame_attributes`` keeps per-frame facts a format carries (truncation, occlusion, 2D box, score)
    so that conversion stays faithful.
    """

    track_id: str
    label: str
    size: FloatArray
    motion: Motion
    first_frame: int
    last_frame: int
    attributes: dict[str, AttributeValue] = field(default_factory=dict)
    provenance: Provenance = field(default_factory=lambda: Provenance("manual"))
    status: TrackStatus = TrackStatus.CONFIRMED
    score: float | None = None
    absent_frames: frozenset[int] = frozenset()
    frame_attributes: dict[int, dict[str, AttributeValue | list[float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        size = np.asarray(self.size, dtype=np.float64).reshape(-1)
        if size.size != 3 or not np.all(np.isfinite(size)) or np.any(size < 0):
            raise ValueError(f"track {self.track_id}: size must be 3 finite non-negative numbers, got {size}")
        self.size = size
        if self.first_frame > self.last_frame:
            raise ValueError(
                f"track {self.track_id}: first frame {self.first_frame} is after last frame {self.last_frame}"
            )
        if isinstance(self.motion, Keyframed):
            outside = [f for f in self.motion.keyframes if not self.first_frame <= f <= self.last_frame]
            if outside:
                raise ValueError(
                    f"track {self.track_id}: keyframes {outside} lie outside its frames "
                    f"{self.first_frame}..{self.last_frame}"
                )

    @property
    def is_stationary(self) -> bool:
        return isinstance(self.motion, Stationary)

    def frames(self) -> list[int]:
        """Frames where the track has a shape."""
        return [f for f in range(self.first_frame, self.last_frame + 1) if f not in self.absent_frames]

    def has_shape(self, frame: int) -> bool:
        return self.first_frame <= frame <= self.last_frame and frame not in self.absent_frames

    @classmethod
    def keyframed(
        cls,
        track_id: str,
        label: str,
        size: ArrayLike,
        keyframes: Mapping[int, Pose],
        *,
        provenance: Provenance | None = None,
        status: TrackStatus = TrackStatus.CONFIRMED,
        score: float | None = None,
    ) -> Track:
        """A track whose life spans exactly its keyframes, with the frames between them present."""
        frames = sorted(keyframes)
        if not frames:
            raise ValueError(f"track {track_id}: needs at least one keyframe")
        return cls(
            track_id=track_id,
            label=label,
            size=np.asarray(size, dtype=np.float64),
            motion=Keyframed(keyframes),
            first_frame=frames[0],
            last_frame=frames[-1],
            provenance=provenance or Provenance("manual"),
            status=status,
            score=score,
        )


@dataclass(eq=False)
class AnnotationLayer:
    """A named set of tracks on a scene: ``ground_truth``, ``auto:<source>`` or ``work``.

    ``tracks_2d`` holds camera-only tracks (2D boxes per frame), e.g. from MOTChallenge files.
    """

    name: str
    tracks: list[Track] = field(default_factory=list)
    tracks_2d: list[Track2D] = field(default_factory=list)
    description: str = ""

    def __iter__(self) -> Iterator[Track]:
        return iter(self.tracks)

    def __len__(self) -> int:
        return len(self.tracks)

    def track(self, track_id: str) -> Track:
        for t in self.tracks:
            if t.track_id == track_id:
                return t
        raise KeyError(f"layer {self.name!r} has no track {track_id!r}")

    def counts_by_label(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.tracks:
            counts[t.label] = counts.get(t.label, 0) + 1
        for t2 in self.tracks_2d:
            counts[t2.label] = counts.get(t2.label, 0) + 1
        return dict(sorted(counts.items()))

    def shape_count(self) -> int:
        return sum(len(t.frames()) for t in self.tracks) + sum(len(t.boxes) for t in self.tracks_2d)


@dataclass(frozen=True)
class Box2D:
    """An axis-aligned image box in pixels: left, top, width, height."""

    left: float
    top: float
    width: float
    height: float
    score: float | None = None

    def __post_init__(self) -> None:
        values = (self.left, self.top, self.width, self.height)
        if not all(np.isfinite(values)):
            raise ValueError(f"2D box must be finite, got {values}")
        if self.width < 0 or self.height < 0:
            raise ValueError(f"2D box width and height must not be negative, got {self.width}, {self.height}")


@dataclass(eq=False)
class Track2D:
    """A camera-only track: one 2D box per frame where it is seen, in one camera's image."""

    track_id: str
    label: str
    camera: str
    boxes: dict[int, Box2D]
    provenance: Provenance = field(default_factory=lambda: Provenance("imported"))
    status: TrackStatus = TrackStatus.CONFIRMED
    attributes: dict[str, AttributeValue] = field(default_factory=dict)

    def frames(self) -> list[int]:
        return sorted(self.boxes)
