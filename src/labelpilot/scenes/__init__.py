"""The recorded drive: scenes, frames, sensors. Pure and I/O-free."""

from labelpilot.scenes.model import (
    BlobRef,
    CameraIntrinsics,
    CameraSensor,
    Frame,
    LidarSensor,
    Scene,
    SweepEncoding,
    frames_from_poses,
    still_poses,
)
from labelpilot.scenes.timing import frame_period_s

__all__ = [
    "BlobRef",
    "CameraIntrinsics",
    "CameraSensor",
    "Frame",
    "LidarSensor",
    "Scene",
    "SweepEncoding",
    "frame_period_s",
    "frames_from_poses",
    "still_poses",
]
