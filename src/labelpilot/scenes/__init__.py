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

__all__ = [
    "BlobRef",
    "CameraIntrinsics",
    "CameraSensor",
    "Frame",
    "LidarSensor",
    "Scene",
    "SweepEncoding",
    "frames_from_poses",
    "still_poses",
]
