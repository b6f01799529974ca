"""Tracks and annotation layers: the labelled objects of a scene, pure and I/O-free."""

from labelpilot.tracks.interpolation import TrackShapes, interpolate_poses, to_ego, world_shapes
from labelpilot.tracks.model import (
    AnnotationLayer,
    AttributeValue,
    Box2D,
    Keyframed,
    Motion,
    Provenance,
    Stationary,
    Track,
    Track2D,
    TrackStatus,
)
from labelpilot.tracks.world_pose import as_stationary, robust_world_pose

__all__ = [
    "AnnotationLayer",
    "AttributeValue",
    "Box2D",
    "Keyframed",
    "Motion",
    "Provenance",
    "Stationary",
    "Track",
    "Track2D",
    "TrackShapes",
    "TrackStatus",
    "as_stationary",
    "interpolate_poses",
    "robust_world_pose",
    "to_ego",
    "world_shapes",
]
