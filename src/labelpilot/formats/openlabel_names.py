"""The names LabelPilot uses inside OpenLABEL files, shared by the reader and the writer."""

from __future__ import annotations

SCHEMA_VERSION = "1.0.0"
ANNOTATOR = "labelpilot"

ODOM = "odom"
"""The scene root coordinate system: LabelPilot's world frame."""
EGO = "ego"
"""The vehicle coordinate system (ISO 8855), a child of ``odom`` moved by one transform per frame."""
EGO_TRANSFORM = "odom_to_ego"
"""Per-frame transform with src ``odom``, dst ``ego``: its matrix is ``ego_T_world`` (X_ego = M X_odom)."""
EGO_ALIASES = (EGO, "vehicle-iso8855", "base_link", "base", "vehicle")
"""Names other producers give the vehicle coordinate system, tried in this order when reading."""

SHAPE = "shape3D"
"""The name of each per-frame cuboid."""
SHAPE_2D = "shape2D"
"""The name of each per-frame bbox of a camera-only track (Track2D)."""
BBOX_2D = "bbox_2d"
"""The frame attribute holding a 2D image box; written as an OpenLABEL bbox on the camera stream."""
LAYER_KEY = "labelpilot_layer"
"""Metadata key naming the annotation layer the file holds."""

STATUS = "status"
PROVENANCE = "provenance"
PROVENANCE_SOURCE = "provenance_source"
STATIONARY = "stationary"
SCORE = "score"
RESERVED_ATTRIBUTES = frozenset({STATUS, PROVENANCE, PROVENANCE_SOURCE, STATIONARY, SCORE})
"""Object-level data names that carry Track fields, not free attributes."""

DEFAULT_LAYER = "ground_truth"
DEFAULT_FRAME_PERIOD_US = 100_000
