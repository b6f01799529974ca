"""Class families: the source class names of KITTI and Argoverse 2 grouped into four families.

Algorithms that need "what kind of thing is this" (size defaults, matching thresholds, motion
priors) ask for the family of a label instead of knowing every dataset's spelling:

* ``vehicle``: cars, vans, trucks, buses, trailers, trams;
* ``pedestrian``: people on foot (KITTI also has ``Person_sitting`` and ``Person``);
* ``cyclist``: two-wheelers, ridden or not (KITTI's ``Cyclist`` is rider and bicycle in one box;
  AV2 also labels parked ``BICYCLE``/``MOTORCYCLE`` objects, which have the same footprint);
* ``other``: everything else, including unknown names and wildcard labels such as ``unknown``.

Lookup ignores case and surrounding spaces, so ``car``, ``Car`` and ``CAR`` are one class.
"""

from __future__ import annotations

from enum import StrEnum


class ClassFamily(StrEnum):
    VEHICLE = "vehicle"
    PEDESTRIAN = "pedestrian"
    CYCLIST = "cyclist"
    OTHER = "other"


_V, _P, _C, _O = ClassFamily.VEHICLE, ClassFamily.PEDESTRIAN, ClassFamily.CYCLIST, ClassFamily.OTHER

KITTI_FAMILIES: dict[str, ClassFamily] = {
    "Car": _V, "Van": _V, "Truck": _V, "Tram": _V,
    "Pedestrian": _P, "Person_sitting": _P, "Person": _P,
    "Cyclist": _C,
    "Misc": _O, "DontCare": _O,
}  # fmt: skip
"""KITTI object types (devkit spelling)."""

AV2_FAMILIES: dict[str, ClassFamily] = {
    "REGULAR_VEHICLE": _V, "LARGE_VEHICLE": _V, "BUS": _V, "SCHOOL_BUS": _V, "ARTICULATED_BUS": _V,
    "BOX_TRUCK": _V, "TRUCK": _V, "TRUCK_CAB": _V, "VEHICULAR_TRAILER": _V, "RAILED_VEHICLE": _V,
    "MESSAGE_BOARD_TRAILER": _V,
    "PEDESTRIAN": _P, "OFFICIAL_SIGNALER": _P,
    "BICYCLIST": _C, "MOTORCYCLIST": _C, "WHEELED_RIDER": _C, "BICYCLE": _C, "MOTORCYCLE": _C,
    "BOLLARD": _O, "CONSTRUCTION_CONE": _O, "CONSTRUCTION_BARREL": _O, "SIGN": _O, "STOP_SIGN": _O,
    "MOBILE_PEDESTRIAN_CROSSING_SIGN": _O, "WHEELED_DEVICE": _O, "WHEELCHAIR": _O, "STROLLER": _O,
    "DOG": _O, "ANIMAL": _O,
}  # fmt: skip
"""Argoverse 2 sensor-dataset categories."""

_BY_KEY: dict[str, ClassFamily] = {
    name.strip().lower(): family for table in (KITTI_FAMILIES, AV2_FAMILIES) for name, family in table.items()
}


def class_family(label: str | None) -> ClassFamily:
    """The family of a source class name; ``other`` for unknown names and None."""
    if label is None:
        return ClassFamily.OTHER
    return _BY_KEY.get(label.strip().lower(), ClassFamily.OTHER)


def is_known_label(label: str) -> bool:
    """Whether ``label`` is a KITTI or Argoverse 2 class name (case-insensitive)."""
    return label.strip().lower() in _BY_KEY
