"""A recorded drive: frames with ego poses, sensors with calibration, and annotation layers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from labelpilot.geometry import Cuboid, Pose
from labelpilot.scenes.timing import frame_period_s
from labelpilot.tracks import AnnotationLayer, Track, TrackShapes, to_ego, world_shapes

FloatArray = NDArray[np.float64]

SweepEncoding = Literal["pcd", "kitti-bin", "av2-feather", "npy"]
"""How a lidar sweep blob is encoded; readers live in ``labelpilot.formats.sweeps``."""


@dataclass(frozen=True)
class BlobRef:
    """A sensor payload addressed by URL (a local path or e.g. ``s3://bucket/key``)."""

    url: str
    encoding: str


@dataclass(frozen=True, eq=False)
class CameraIntrinsics:
    """Pinhole intrinsics (OpenCV convention) and the image size in pixels."""

    matrix: FloatArray
    width: int
    height: int
    distortion: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        k = np.asarray(self.matrix, dtype=np.float64)
        if k.shape != (3, 3) or not np.all(np.isfinite(k)):
            raise ValueError(f"camera matrix must be a finite 3x3, got shape {k.shape}")
        k.setflags(write=False)
        object.__setattr__(self, "matrix", k)


@dataclass(frozen=True)
class CameraSensor:
    name: str
    ego_T_sensor: Pose
    intrinsics: CameraIntrinsics


@dataclass(frozen=True)
class LidarSensor:
    name: str
    ego_T_sensor: Pose
    range_m: float | None = None
    """How far objects are seen and labelled around this lidar, where its dataset says (None: the
    tools' defaults apply)."""


@dataclass(eq=False)
class Frame:
    """One moment of the drive. ``timestamp_us`` is integer microseconds."""

    index: int
    timestamp_us: int
    world_T_ego: Pose
    lidar: BlobRef | None = None
    images: dict[str, BlobRef] = field(default_factory=dict)


@dataclass(eq=False)
class Scene:
    """An ordered list of frames, the sensors that recorded them and the annotation layers on them."""

    name: str
    frames: list[Frame]
    lidar: LidarSensor | None = None
    cameras: dict[str, CameraSensor] = field(default_factory=dict)
    layers: dict[str, AnnotationLayer] = field(default_factory=dict)
    source_format: str = ""
    notes: list[str] = field(default_factory=list)
    """Facts the importer wants a person to know (e.g. 'no poses: the ego is taken as still')."""

    def __post_init__(self) -> None:
        for i, frame in enumerate(self.frames):
            if frame.index != i:
                raise ValueError(
                    f"scene {self.name}: frame {i} has index {frame.index}; frames must be 0..N-1"
                )
        stamps = self.timestamps_us
        if any(b < a for a, b in itertools.pairwise(stamps)):
            raise ValueError(f"scene {self.name}: frame timestamps must not decrease")

    @property
    def timestamps_us(self) -> list[int]:
        """Every frame's timestamp, in order."""
        return [f.timestamp_us for f in self.frames]

    @property
    def frame_period_s(self) -> float:
        """The median time between consecutive frames (``timing.frame_period_s``)."""
        return frame_period_s(self.timestamps_us)

    @property
    def duration_s(self) -> float:
        if len(self.frames) < 2:
            return 0.0
        return (self.frames[-1].timestamp_us - self.frames[0].timestamp_us) / 1e6

    def world_T_ego_array(self) -> FloatArray:
        """(num_frames, 4, 4) ego poses, for vectorised work."""
        if not self.frames:
            return np.zeros((0, 4, 4))
        return np.stack([f.world_T_ego.matrix for f in self.frames])

    def add_layer(self, layer: AnnotationLayer) -> AnnotationLayer:
        if layer.name in self.layers:
            raise ValueError(f"scene {self.name} already has a layer {layer.name!r}")
        self.layers[layer.name] = layer
        return layer

    def layer(self, name: str) -> AnnotationLayer:
        try:
            return self.layers[name]
        except KeyError:
            known = ", ".join(self.layers) or "none"
            raise KeyError(f"scene {self.name} has no layer {name!r} (layers: {known})") from None

    def ego_shapes(self, track: Track) -> TrackShapes:
        """A track's derived cuboids in each frame's ego frame."""
        self._check_track_frames(track)
        return to_ego(world_shapes(track), self.world_T_ego_array())

    def world_shapes(self, track: Track) -> TrackShapes:
        self._check_track_frames(track)
        return world_shapes(track)

    def shapes_in_frame(
        self, layer: str, frame: int, coordinates: Literal["ego", "world"] = "ego"
    ) -> list[tuple[Track, Cuboid]]:
        """Every track of ``layer`` that has a shape in ``frame``, with its cuboid."""
        out: list[tuple[Track, Cuboid]] = []
        world_T_ego = self.frames[frame].world_T_ego
        ego_T_world = world_T_ego.inverse()
        for track in self.layer(layer).tracks:
            if not track.has_shape(frame):
                continue
            shapes = world_shapes(track, [frame])
            cuboid = shapes.cuboids[0]
            out.append((track, cuboid if coordinates == "world" else cuboid.transformed(ego_T_world)))
        return out

    def _check_track_frames(self, track: Track) -> None:
        if track.last_frame >= len(self.frames) or track.first_frame < 0:
            raise ValueError(
                f"track {track.track_id} spans frames {track.first_frame}..{track.last_frame}, "
                f"but scene {self.name} has frames 0..{len(self.frames) - 1}"
            )


def still_poses(count: int) -> list[Pose]:
    """Identity ego poses, for sources without ego motion."""
    return [Pose.identity() for _ in range(count)]


def frames_from_poses(
    poses: list[Pose], timestamps_us: ArrayLike | None = None, period_us: int = 100_000
) -> list[Frame]:
    """Frames 0..N-1 from ego poses, timestamps given or spaced by ``period_us``."""
    stamps = (
        np.arange(len(poses), dtype=np.int64) * period_us
        if timestamps_us is None
        else np.asarray(timestamps_us, dtype=np.int64)
    )
    if len(stamps) != len(poses):
        raise ValueError(f"{len(poses)} poses but {len(stamps)} timestamps")
    return [Frame(i, int(stamps[i]), pose) for i, pose in enumerate(poses)]
