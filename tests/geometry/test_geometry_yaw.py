"""Yaw arithmetic: normalisation to (-pi, pi] and shortest-arc differences."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from labelpilot.geometry import Cuboid, CuboidBatch, interpolate_yaw, normalize_yaw, yaw_difference
from tests.geometry.geometry_strategies import quaternions

angles = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)
fractions = st.floats(0.0, 1.0)


def _same_direction(a: float, b: float) -> bool:
    return math.isclose(math.cos(a), math.cos(b), abs_tol=1e-9) and math.isclose(
        math.sin(a), math.sin(b), abs_tol=1e-9
    )


@given(angles)
def test_normalised_yaw_is_in_half_open_range_and_same_direction(a: float) -> None:
    y = float(normalize_yaw(a))
    assert -math.pi < y <= math.pi
    assert _same_direction(y, a)


@given(angles)
def test_normalisation_is_idempotent(a: float) -> None:
    once = normalize_yaw(a)
    assert float(normalize_yaw(once)) == float(once)


def test_range_ends() -> None:
    assert float(normalize_yaw(math.pi)) == math.pi
    assert float(normalize_yaw(-math.pi)) == math.pi
    assert float(normalize_yaw(3 * math.pi)) == math.pi
    assert float(normalize_yaw(0.0)) == 0.0


@given(st.lists(angles, min_size=1, max_size=20))
def test_normalisation_works_elementwise_on_arrays(values: list[float]) -> None:
    out = normalize_yaw(np.array(values))
    assert out.shape == (len(values),)
    assert [float(v) for v in out] == [float(normalize_yaw(v)) for v in values]


@given(angles, angles)
def test_difference_is_the_shortest_arc(a: float, b: float) -> None:
    d = float(yaw_difference(a, b))
    assert -math.pi < d <= math.pi
    # b turned by d points where a points ...
    assert _same_direction(b + d, a)
    # ... and no other turn that gets there is shorter.
    k = round((a - b) / (2 * math.pi))
    for other in (a - b - 2 * math.pi * (k + j) for j in (-1, 0, 1)):
        assert abs(d) <= abs(other) + 1e-9


@given(angles, angles)
def test_difference_is_antisymmetric_except_at_half_turn(a: float, b: float) -> None:
    d_ab = float(yaw_difference(a, b))
    d_ba = float(yaw_difference(b, a))
    if abs(abs(d_ab) - math.pi) > 1e-9:
        assert math.isclose(d_ab, -d_ba, abs_tol=1e-9)
    else:
        # A half turn is +pi both ways round.
        assert math.isclose(d_ba, math.pi, abs_tol=1e-9)


@given(angles, angles, fractions)
def test_interpolation_stays_on_the_short_arc(a: float, b: float, t: float) -> None:
    y = float(interpolate_yaw(a, b, t))
    assert -math.pi < y <= math.pi
    total = abs(float(yaw_difference(b, a)))
    # The interpolant is t of the way along the short arc from a and (1 - t) from b.
    assert math.isclose(abs(float(yaw_difference(y, a))), t * total, abs_tol=1e-7)
    assert math.isclose(abs(float(yaw_difference(b, y))), (1 - t) * total, abs_tol=1e-7)


@given(angles, angles)
def test_interpolation_endpoints(a: float, b: float) -> None:
    assert _same_direction(float(interpolate_yaw(a, b, 0.0)), a)
    assert _same_direction(float(interpolate_yaw(a, b, 1.0)), b)


@given(st.lists(angles, min_size=1, max_size=10))
def test_cuboid_yaws_are_normalised_and_match_construction(values: list[float]) -> None:
    batch = CuboidBatch.from_yaws(np.zeros((len(values), 3)), np.ones((len(values), 3)), values)
    for got, want in zip(batch.yaws, values, strict=True):
        assert -math.pi < got <= math.pi
        assert _same_direction(float(got), want)
    for i, want in enumerate(values):
        assert _same_direction(Cuboid.from_yaw([0, 0, 0], [1, 1, 1], want).yaw, want)
        assert _same_direction(batch[i].yaw, want)


@given(quaternions())
def test_cuboid_yaw_is_in_range_for_any_rotation(q: np.ndarray) -> None:
    assert -math.pi < Cuboid([0, 0, 0], [1, 1, 1], q).yaw <= math.pi
