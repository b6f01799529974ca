"""Where a track's life starts and ends, proposed from evidence instead of found by stepping.

``propose_life(scene, track, sweeps)`` reads one track (a candidate or a confirmed track that came from
one), the scene's poses and calibration and, through ``sweeps``, lidar. It never reads another layer,
so never ground truth. Three kinds of evidence, for each end of the life:

* **detection coverage**: the frames where the track has a detection of its own (``frame_attributes``
  ``det_center``, kept by ``candidates.build_candidates``; else its keyframes). Gaps between
  detections are bridged (the track is present there); the life the detections support runs from the
  first to the last detection;
* **sensor coverage**: the box carried past the last detection (the same world box for a stationary
  track, a constant-velocity continuation for a moving one) projected through the ego poses and the
  cameras' calibration: in front of a camera and inside its image, and within lidar range (the
  scene lidar's where its dataset says how far it sees, ``lidar_range_m``). A
  detector's boxes and the labels people make stop where the object leaves the sensors' view;
* **point support** (where sweeps exist): lidar points inside the carried box, frame by frame.

Each end gets a frame and a verdict. It is **strong** when the evidence agrees: the scene begins or
ends there, or the carried box leaves the camera's view within ``max_extension_*`` frames with point
support all the way (the life is extended to the last frame in view). It is **weak** when the evidence
disagrees or is thin: a first frame inside the scene (objects come into view gradually: far ahead,
behind others), a box that fades out of lidar range rather than leaving the image, an object still in
view after its last detection, or a carried box that loses point support while still in view. A weak
end is proposed at the last frame the evidence holds and queued for a look.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from labelpilot.automation.box_points import count_in_box
from labelpilot.automation.sweep_access import SweepSource
from labelpilot.geometry import Cuboid, CuboidBatch, Pose, project_cuboid_bbox
from labelpilot.scenes import Scene
from labelpilot.tracks import Keyframed, Track, world_shapes
from labelpilot.tracks.extrapolation import extrapolated_pose

FloatArray = NDArray[np.float64]
EndName = Literal["first", "last"]


@dataclass(frozen=True)
class LifeSettings:
    max_range_m: float = 80.0
    """Farther than this from the ego an object is outside lidar range (and beyond what people label),
    where the scene's lidar does not say how far it sees (``LidarSensor.range_m``). KITTI labels 99 %
    of its shapes on the dev sequences within 76 m."""
    min_image_pixels: float = 16.0
    """A projected box narrower or lower than this (clipped to the image) shows nothing of the object."""
    min_visible_share: float = 0.1
    """A box of which less than this share (of its projected 2D box) lies inside the image counts as
    out of view. On the KITTI dev sequences 0.1 put the most strong last ends exactly on the labelled
    end (45 % of stationary, 59 % of moving ones; 0.5 gave 38 % and 55 %)."""
    min_visible_share_judged: float = 0.0
    """The same for a box a person put there: KITTI labels an object while any of it is in the image.
    A parked car drawn in KITTI 0001, 0007 and 0009 and carried on at 0.1 left the view 1.7-3.5 frames
    before its labels ended on average, at 0.0 within a frame (a detector's boxes stop earlier: there
    0.0 traded 0.007 of precision for 0.007 of recall in the effort benchmark)."""
    min_points: int = 3
    """Fewer lidar points inside the carried box than this is no point support."""
    max_extension_moving: int = 1
    """Frames a moving track's box is carried past its detections: the editor holds a track's box past
    its last keyframe, so a moving box is only right for about a frame."""
    max_extension_stationary: int = 30
    """The same for a stationary track (one world box is only as wrong as the poses)."""
    max_extension_keyed_moving: int = 10
    """The same for a moving track a person keyed, continued where its keyframes lead
    (``tracks.extrapolation``), which held for about a second on the Argoverse 2 log and KITTI."""
    velocity_frames: int = 5
    """Detections at the end that give a moving track's velocity."""
    stationary_speed_mps: float = 0.5
    """Below this speed over its detections a track is carried as one world box."""


DEFAULT_LIFE_SETTINGS = LifeSettings()


@dataclass(frozen=True)
class LifeEnd:
    frame: int
    weak: bool
    reason: str


@dataclass(frozen=True)
class LifeProposal:
    """A track's proposed life: its first and last frame, each with whether it needs a look."""

    track_id: str
    first: LifeEnd
    last: LifeEnd

    @property
    def frames(self) -> tuple[int, int]:
        return self.first.frame, self.last.frame

    def end(self, name: EndName) -> LifeEnd:
        return self.first if name == "first" else self.last


def detection_frames(track: Track) -> list[int]:
    """The frames where the track has a detection of its own (see the module doc)."""
    detected = sorted(
        f for f, a in track.frame_attributes.items() if "det_center" in a and track.has_shape(f)
    )
    if detected:
        return detected
    if isinstance(track.motion, Keyframed):
        keyed = sorted(f for f in track.motion.keyframes if track.has_shape(f))
        if keyed:
            return keyed
    return track.frames()


def _range_m(scene: Scene, frame: int, box_world: Cuboid) -> float:
    box_ego = box_world.transformed(scene.frames[frame].world_T_ego.inverse())
    return float(np.linalg.norm(box_ego.center[:2]))


def lidar_range_m(scene: Scene, settings: LifeSettings) -> float:
    """How far from the ego objects are in lidar range in ``scene``: its lidar's range, else the setting."""
    if scene.lidar is not None and scene.lidar.range_m is not None:
        return scene.lidar.range_m
    return settings.max_range_m


def in_sensor_view(scene: Scene, frame: int, box_world: Cuboid, settings: LifeSettings) -> bool:
    """Whether the box is within lidar range and, where the scene has cameras, inside an image."""
    if _range_m(scene, frame, box_world) > settings.max_range_m:
        return False
    box_ego = box_world.transformed(scene.frames[frame].world_T_ego.inverse())
    if not scene.cameras:
        return True
    for camera in scene.cameras.values():
        box_cam = box_ego.transformed(camera.ego_T_sensor.inverse())
        if box_cam.center[2] <= 0.0:
            continue
        intrinsics = camera.intrinsics
        whole = project_cuboid_bbox(box_cam, intrinsics.matrix)
        bbox = project_cuboid_bbox(
            box_cam, intrinsics.matrix, image_size=(intrinsics.width, intrinsics.height)
        )
        if bbox is None or whole is None:
            continue
        x1, y1, x2, y2 = bbox
        shown = (x2 - x1) * (y2 - y1)
        full = (whole[2] - whole[0]) * (whole[3] - whole[1])
        big_enough = x2 - x1 >= settings.min_image_pixels and y2 - y1 >= settings.min_image_pixels
        if big_enough and full > 0 and shown / full >= settings.min_visible_share:
            return True
    return False


def _continued_boxes(scene: Scene, track: Track, keyframes: Mapping[int, Pose], limit: int) -> list[Cuboid]:
    """A keyed moving track's boxes for ``limit`` frames past its last frame, where its keyframes lead."""
    period = scene.frame_period_s
    times = [t / 1e6 for t in scene.timestamps_us]
    times += [times[-1] + period * k for k in range(1, limit + 1)]  # past the scene's end, for the loop
    boxes = []
    for k in range(1, limit + 1):
        pose = extrapolated_pose(keyframes, times, track.last_frame + k)
        assert pose is not None  # two keyframes or more, and past the last of them
        boxes.append(Cuboid(pose.translation, track.size, pose.quat_xyzw))
    return boxes


def _carried_boxes(
    scene: Scene, track: Track, detected: list[int], end: EndName, settings: LifeSettings, judged_box: bool
) -> tuple[list[Cuboid], int]:
    """Boxes for the frames past the end (outwards), and how many frames they may be carried."""
    motion = track.motion
    if judged_box and end == "last" and isinstance(motion, Keyframed) and len(motion.keyframes) >= 2:
        limit = settings.max_extension_keyed_moving
        return _continued_boxes(scene, track, motion.keyframes, limit), limit
    near = detected[-settings.velocity_frames :] if end == "last" else detected[: settings.velocity_frames]
    shapes = world_shapes(track, near)
    centers = shapes.cuboids.centers
    edge = len(near) - 1 if end == "last" else 0
    edge_box = shapes.cuboids[edge]
    span = near[-1] - near[0]
    seconds = (scene.frames[near[-1]].timestamp_us - scene.frames[near[0]].timestamp_us) / 1e6
    velocity = np.zeros(3)
    speed_mps = 0.0
    if span > 0:
        velocity = (centers[-1] - centers[0]) / span  # metres per frame, forwards in time
        speed_mps = float(np.linalg.norm(centers[-1, :2] - centers[0, :2])) / seconds if seconds > 0 else 0.0
    stationary = track.is_stationary or speed_mps < settings.stationary_speed_mps
    limit = settings.max_extension_stationary if stationary else settings.max_extension_moving
    step = velocity * (1.0 if end == "last" else -1.0)
    if stationary:
        step = np.zeros(3)
    boxes = [
        Cuboid(edge_box.center + step * k, edge_box.size, edge_box.quat_xyzw) for k in range(1, limit + 1)
    ]
    return boxes, limit


def _point_support(
    scene: Scene, frame: int, box_world: Cuboid, sweeps: SweepSource, settings: LifeSettings
) -> bool | None:
    cloud = sweeps.points_ego(frame)
    if cloud is None:
        return None
    box_ego = box_world.transformed(scene.frames[frame].world_T_ego.inverse())
    xyz = np.asarray(cloud[:, :3], dtype=np.float64)
    return count_in_box(xyz, CuboidBatch.from_cuboids([box_ego])) >= settings.min_points


def propose_end(
    scene: Scene,
    track: Track,
    end: EndName,
    sweeps: SweepSource | None = None,
    settings: LifeSettings = DEFAULT_LIFE_SETTINGS,
    *,
    judged_box: bool = False,
) -> LifeEnd:
    """One end of the life (see the module doc). ``judged_box``: the track's boxes are ones a person
    put there (its whole life is the evidence), so without sweeps they are carried on to the weak end
    all the same (a detector's are not); a moving one continues where its keyframes lead."""
    detected = track.frames() if judged_box else detection_frames(track)
    edge = detected[-1] if end == "last" else detected[0]
    outward = 1 if end == "last" else -1
    scene_edge = len(scene.frames) - 1 if end == "last" else 0
    word = "ends" if end == "last" else "begins"
    if edge == scene_edge:
        return LifeEnd(edge, False, f"the scene {word} at its {end} detection")
    if end == "first":
        # On the KITTI dev sequences a track's first detection was within 2 frames of the labelled start
        # for only 24-44 % of the tracks (and carrying its box backwards through the sensors' view made
        # it worse): where a life starts inside the scene is always worth a look.
        return LifeEnd(edge, True, "it comes into view inside the scene")
    boxes, limit = _carried_boxes(scene, track, detected, end, settings, judged_box)
    continued = judged_box and not track.is_stationary
    # What counts as in view for these boxes: an object seen beyond the usual range (people label far
    # objects unevenly) is in range while it comes no farther away; a person's box is in view while any
    # of it is in an image.
    edge_box = world_shapes(track, [edge]).cuboids[0]
    view = dataclasses.replace(
        settings,
        max_range_m=max(lidar_range_m(scene, settings), _range_m(scene, edge, edge_box)),
        min_visible_share=settings.min_visible_share_judged if judged_box else settings.min_visible_share,
    )
    proposed = edge
    for k, box in enumerate(boxes, start=1):
        frame = edge + outward * k
        if not 0 <= frame < len(scene.frames):
            return LifeEnd(proposed, False, f"the scene {word} while the object is in view")
        if not in_sensor_view(scene, frame, box, view):
            # Leaving the image is sharp; fading out of range is not (people label far objects unevenly),
            # and neither is a continued moving box (where it leaves the view is only as right as the
            # continued motion).
            far = _range_m(scene, frame, box) > view.max_range_m
            where = "lidar range" if far else "the camera's view"
            return LifeEnd(proposed, far or continued, f"it leaves {where} at frame {frame}")
        support = None if sweeps is None else _point_support(scene, frame, box, sweeps, settings)
        if support is False:
            return LifeEnd(proposed, True, f"no lidar points in its box at frame {frame}, still in view")
        proposed = frame
    # Still in view after every carried frame: the detector lost it (occlusion, distance) or it is gone.
    # Points all the way keep the carried frames; without sweeps nothing supports them.
    return LifeEnd(
        proposed if sweeps is not None or judged_box else edge,
        True,
        f"still in view {limit} frames past its {end} {'frame' if judged_box else 'detection'}",
    )


def propose_life(
    scene: Scene,
    track: Track,
    sweeps: SweepSource | None = None,
    settings: LifeSettings = DEFAULT_LIFE_SETTINGS,
) -> LifeProposal:
    """The track's proposed first and last frame (see the module doc)."""
    return LifeProposal(
        track.track_id,
        propose_end(scene, track, "first", sweeps, settings),
        propose_end(scene, track, "last", sweeps, settings),
    )
