"""Conversion between external formats and the domain model, at the boundary."""

from labelpilot.formats.errors import FormatError
from labelpilot.formats.registry import FORMATS, FormatInfo, format_info, read_scene, write_scene

__all__ = ["FORMATS", "FormatError", "FormatInfo", "format_info", "read_scene", "write_scene"]
