"""Resolve OpenLABEL coordinate systems to the scene root, frame by frame.

Each coordinate system names a parent; its static ``pose_wrt_parent`` is ``parent_T_child``. A frame
may override an edge with a transform in ``frame_properties.transforms`` whose ``src`` and ``dst`` are
the child and the parent (either way round: ``transform_src_to_dst`` is ``dst_T_src``).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelpilot.formats.errors import FormatError
from labelpilot.formats.openlabel_geometry import pose_from_transform_data
from labelpilot.geometry import Pose

FrameTransforms = dict[tuple[str, str], Pose]
"""One frame's transforms: (src, dst) -> dst_T_src."""


def frame_transforms(properties: Mapping[str, Any], source: Path, field: str) -> FrameTransforms:
    """The transforms of one frame's ``frame_properties``, keyed by (src, dst)."""
    out: FrameTransforms = {}
    transforms = properties.get("transforms") or {}
    for name, transform in transforms.items():
        where = f"{field}.transforms.{name}"
        out[(str(transform["src"]), str(transform["dst"]))] = pose_from_transform_data(
            transform["transform_src_to_dst"], source, f"{where}.transform_src_to_dst"
        )
    return out


@dataclass
class CoordinateSystems:
    """The coordinate-system tree of one document, with static poses and the chosen root."""

    source: Path
    parents: dict[str, str]
    static_poses: dict[str, Pose]
    root: str
    _cache: dict[tuple[int, str], Pose] = field(default_factory=dict)

    @classmethod
    def from_document(cls, systems: Mapping[str, Any], source: Path) -> CoordinateSystems:
        """Read ``coordinate_systems``; the root is ``odom`` when there are several, else the only one."""
        parents: dict[str, str] = {}
        static: dict[str, Pose] = {}
        for name, system in systems.items():
            where = f"openlabel.coordinate_systems.{name}"
            parents[name] = str(system.get("parent", ""))
            if "pose_wrt_parent" in system:
                static[name] = pose_from_transform_data(
                    system["pose_wrt_parent"], source, f"{where}.pose_wrt_parent"
                )
        for name, parent in parents.items():
            if parent and parent not in parents:
                raise FormatError(
                    source,
                    f"parent {parent!r} is not a coordinate system",
                    field=f"openlabel.coordinate_systems.{name}.parent",
                )
        roots = [n for n, p in parents.items() if not p]
        if parents and not roots:
            raise FormatError(
                source, "the coordinate systems form a cycle", field="openlabel.coordinate_systems"
            )
        root = "odom" if "odom" in roots else (roots[0] if roots else "")
        tree = cls(source, parents, static, root)
        for name in parents:
            tree._chain(name)  # refuses cycles early, naming the system
        return tree

    def __contains__(self, name: str) -> bool:
        return name in self.parents

    def _chain(self, name: str) -> list[str]:
        """``name`` and its ancestors up to a root."""
        chain = [name]
        while self.parents[chain[-1]]:
            chain.append(self.parents[chain[-1]])
            if len(chain) > len(self.parents):
                raise FormatError(
                    self.source,
                    f"coordinate system {name!r} has a cycle among its parents",
                    field=f"openlabel.coordinate_systems.{name}.parent",
                )
        return chain

    def root_T(self, name: str, frame: int, transforms: FrameTransforms, field: str) -> Pose:
        """``root_T_name`` at ``frame``; ``field`` names where ``name`` was referenced."""
        key = (frame, name)
        if key in self._cache:
            return self._cache[key]
        if name not in self.parents:
            raise FormatError(self.source, f"unknown coordinate system {name!r}", field=field)
        chain = self._chain(name)
        if chain[-1] != self.root:
            raise FormatError(
                self.source,
                f"coordinate system {name!r} is not connected to the scene root {self.root!r}",
                field=field,
            )
        pose = Pose.identity()
        for child, parent in itertools.pairwise(chain):
            if (child, parent) in transforms:
                parent_T_child = transforms[(child, parent)]
            elif (parent, child) in transforms:
                parent_T_child = transforms[(parent, child)].inverse()
            else:
                parent_T_child = self.static_poses.get(child, Pose.identity())
            pose = parent_T_child @ pose
        self._cache[key] = pose
        return pose

    def has_frame_transform(self, name: str, transforms: FrameTransforms) -> bool:
        """Whether this frame moves ``name`` relative to its parent."""
        parent = self.parents.get(name, "")
        return bool(parent) and ((name, parent) in transforms or (parent, name) in transforms)
