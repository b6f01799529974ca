"""Scene services in one place: import, browse, load, export and per-frame payloads.

The work is split by responsibility: ``scene_import``, ``scene_browse``, ``scene_load``,
``scene_export``, ``frame_data`` (and ``scene_access`` for the visibility rule and blob keys).
"""

from labelpilot.services.frame_data import frame_shapes, image_bytes, sweep_bytes
from labelpilot.services.scene_access import visible_scene
from labelpilot.services.scene_browse import (
    FrameView,
    LayerView,
    SceneDetail,
    SceneSummary,
    SensorView,
    get_scene,
    list_frames,
    list_layers,
    list_scenes,
)
from labelpilot.services.scene_export import export_scene
from labelpilot.services.scene_import import ProgressCallback, import_scene
from labelpilot.services.scene_load import SWEEP_BLOB_ENCODING, load_scene

__all__ = [
    "SWEEP_BLOB_ENCODING",
    "FrameView",
    "LayerView",
    "ProgressCallback",
    "SceneDetail",
    "SceneSummary",
    "SensorView",
    "export_scene",
    "frame_shapes",
    "get_scene",
    "image_bytes",
    "import_scene",
    "list_frames",
    "list_layers",
    "list_scenes",
    "load_scene",
    "sweep_bytes",
    "visible_scene",
]
