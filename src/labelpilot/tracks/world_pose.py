"""The one world box a stationary object gets from its keyframes (marking a track stationary)."""

from __future__ import annotations

import dataclasses

import numpy as np

from labelpilot.geometry import Pose
from labelpilot.tracks.model import Keyframed, Stationary, Track


def robust_world_pose(poses: list[Pose]) -> Pose:
    """One world pose summarising a track's keyframes: the median centre and the circular mean yaw.

    The median keeps a few badly placed keyframes from dragging the box.
    """
    centres = np.stack([p.translation for p in poses])
    yaws = np.array([p.yaw for p in poses])
    yaw = float(np.arctan2(np.mean(np.sin(yaws)), np.mean(np.cos(yaws))))
    return Pose.from_yaw(yaw, np.median(centres, axis=0))


def as_stationary(track: Track) -> Track:
    """``track`` as marking it stationary makes it: one world box, ``robust_world_pose`` of its keyframes
    (a stationary track as it is)."""
    motion = track.motion
    if not isinstance(motion, Keyframed):
        return track
    return dataclasses.replace(track, motion=Stationary(robust_world_pose(list(motion.keyframes.values()))))
