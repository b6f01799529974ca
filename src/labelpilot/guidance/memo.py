"""A memo of per-track guidance results, keyed by the content they are computed from.

The editor asks for the guidance queue after every decision a person makes, and a decision changes one
track: the actions of every other track would come out the same. A ``GuidanceMemo`` keeps them. Its
keys are content fingerprints, never object identities (the services load the scene and its tracks
afresh for every request):

* ``track_fingerprint``: everything of a track that a per-track computation reads;
* ``scene_fingerprint``: what they read of the scene besides its layers: name, frames (timestamps, the
  ego poses as the scene holds them, so corrected poses count, and each frame's lidar reference),
  the lidar and the cameras with their calibration. Layers are left out on purpose: a track's actions
  read the track and the scene's frames and sensors, never another layer;
* every other input as itself where it is hashable by value (frozen settings), else by its own
  fingerprint (``verdict_fingerprint``, ``priors_fingerprint``).

Lidar is named by each frame's ``BlobRef``: a sweep source passed with a scene is taken to yield that
scene's sweeps, and a sweep to stay the same under its reference. A key's first part names the
computation, so that results of different types never share a key.

Values must be immutable (``Action`` is frozen; lists are kept as tuples) since every hit returns the
stored object. The memo is bounded (least recently used entries go first) and may be shared between
threads: a lock guards the table, and a miss computes outside it (two threads missing the same key
compute it twice, which costs time but gives the same value).
"""

from __future__ import annotations

import hashlib
import json
import struct
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar, cast

import numpy as np

from labelpilot.automation.size_priors import SizePriors, SizeStats
from labelpilot.automation.stationary import MotionVerdict
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.geometry import Pose
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Track

T = TypeVar("T")
Key = tuple[Hashable, ...]

DEFAULT_MAX_ENTRIES = 50_000
"""Entries kept: a scene has a few hundred to a few thousand tracks, an entry one action or a few."""
DIGEST_BYTES = 16


class _Digest:
    """A blake2b digest of length-prefixed parts, so that no two sequences of parts run together."""

    def __init__(self, kind: str) -> None:
        self._hash = hashlib.blake2b(digest_size=DIGEST_BYTES)
        self.part(kind.encode())

    def part(self, data: bytes) -> None:
        self._hash.update(struct.pack("<Q", len(data)))
        self._hash.update(data)

    def json(self, value: object) -> None:
        """``value`` as canonical JSON: sorted keys, floats in their exact shortest form."""
        self.part(json.dumps(value, sort_keys=True, separators=(",", ":"), default=_plain).encode())

    def floats(self, values: Any) -> None:
        self.part(np.ascontiguousarray(values, dtype=np.float64).tobytes())

    def ints(self, values: Any) -> None:
        self.part(np.ascontiguousarray(values, dtype=np.int64).tobytes())

    def pose(self, pose: Pose | None) -> None:
        self.part(b"" if pose is None else np.ascontiguousarray(pose.matrix).tobytes())

    def digest(self) -> bytes:
        return self._hash.digest()


def _plain(value: object) -> object:
    """What JSON cannot encode by itself: NumPy scalars and arrays, poses."""
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if isinstance(value, Pose):
        return value.matrix.tolist()
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def track_fingerprint(track: Track) -> bytes:
    """A digest of everything of ``track``: equal for tracks of equal content, whatever their identity."""
    digest = _Digest("track")
    digest.json(
        [
            track.track_id,
            track.label,
            track.first_frame,
            track.last_frame,
            sorted(track.absent_frames),
            track.status.value,
            track.score,
            track.provenance.kind,
            track.provenance.source,
            track.attributes,
            # Candidates keep their detections here (centre, yaw, scores, 2D boxes), which their
            # measurement views and proposed lives read.
            track.frame_attributes,
        ]
    )
    digest.floats(track.size)
    motion = track.motion
    if isinstance(motion, Keyframed):
        digest.part(b"keyframed")
        digest.ints(list(motion.keyframes))
        digest.floats([pose.matrix for pose in motion.keyframes.values()])
    else:
        digest.part(b"stationary")
        digest.pose(motion.world_pose)
    return digest.digest()


def scene_fingerprint(scene: Scene) -> bytes:
    """A digest of the scene's name, frames and sensors (see the module doc), its layers left out."""
    digest = _Digest("scene")
    digest.json([scene.name, len(scene.frames)])
    digest.ints([f.index for f in scene.frames])
    digest.ints(scene.timestamps_us)
    digest.floats(scene.world_T_ego_array())
    digest.json([None if f.lidar is None else [f.lidar.url, f.lidar.encoding] for f in scene.frames])
    lidar = scene.lidar
    digest.json(None if lidar is None else [lidar.name, lidar.range_m])
    digest.pose(None if lidar is None else lidar.ego_T_sensor)
    for name, camera in scene.cameras.items():
        intrinsics = camera.intrinsics
        digest.json([name, camera.name, intrinsics.width, intrinsics.height, list(intrinsics.distortion)])
        digest.floats(intrinsics.matrix)
        digest.pose(camera.ego_T_sensor)
    return digest.digest()


def verdict_fingerprint(verdict: MotionVerdict) -> bytes:
    """A digest of every field of a stationary verdict (it compares by identity)."""
    digest = _Digest("verdict")
    digest.json(
        [
            verdict.stationary,
            verdict.confidence,
            verdict.p_stationary,
            verdict.detections,
            verdict.duration_s,
            verdict.net_displacement_m,
            verdict.displacement_m,
            verdict.speed_mps,
            verdict.spread_m,
            verdict.noise_m,
            verdict.scale_drift,
            verdict.reason,
        ]
    )
    digest.pose(verdict.world_pose)
    digest.part(b"" if verdict.size is None else np.ascontiguousarray(verdict.size, np.float64).tobytes())
    return digest.digest()


def _stats(stats: SizeStats) -> list[object]:
    return [stats.mean, stats.std, stats.count]


def priors_fingerprint(priors: SizePriors) -> bytes:
    """A digest of the size statistics per label and per class family."""
    digest = _Digest("priors")
    digest.json(
        [
            {label: _stats(s) for label, s in priors.by_label.items()},
            {family.value: _stats(s) for family, s in priors.by_family.items()},
        ]
    )
    return digest.digest()


def sweeps_kind(sweeps: SweepSource | None) -> str | None:
    """What a key records of a sweep source: whether there is one and its type (what it reads is the
    scene's lidar references, in ``scene_fingerprint``)."""
    return None if sweeps is None else f"{type(sweeps).__module__}.{type(sweeps).__qualname__}"


class GuidanceMemo:
    """A bounded, thread-safe table from content keys to per-track guidance results (see the module doc).

    ``hits`` and ``misses`` count lookups since it was made (or ``clear``-ed).
    """

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if max_entries < 1:
            raise ValueError(f"a memo needs room for at least one entry, got {max_entries}")
        self.max_entries = max_entries
        self._entries: OrderedDict[Key, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def get_or_compute(self, key: Key, compute: Callable[[], T]) -> T:
        """The value stored under ``key``, else ``compute()`` stored there. ``key[0]`` names the
        computation; the rest must hold every input the value depends on."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                self.hits += 1
                return cast(T, self._entries[key])
            self.misses += 1
        value = compute()
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value
