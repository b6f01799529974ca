"""Ground removal for a lidar sweep: a height map of the ground and which points lie on it.

The ground is modelled as a grid height map, not as one plane, so that slopes, crowned roads
and kerbs are followed. Each grid cell first takes its lowest point. Lowest points are wrong in
two ways: a cell covered by a car or a bush has no ground return and its lowest point is the
object's underside (too high), and a few returns come from below the ground (reflections off wet
road, multipath: too low). A low quantile of the lowest points over a window of neighbouring
cells is robust to both; a cell keeps its own lowest point only where that agrees with the
window estimate. Empty cells (lidar shadows, beyond the range) take the nearest measured cell.

Nothing here knows the sensor height, so the same code serves KITTI (ego = lidar, ground near
z = -1.73) and Argoverse 2 (ego origin on the ground), and works in the world frame as well.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class GroundParams:
    cell_size: float = 1.0
    """Grid resolution in metres: fine enough for kerbs and slopes, coarse enough that most cells
    next to an object still see some ground."""
    window_cells: int = 9
    """Side of the neighbourhood (cells) over which lowest points are pooled; must exceed the width
    of the objects that hide the ground (a bus is about 3 m wide)."""
    window_quantile: float = 0.2
    """Objects raise lowest points and noise lowers them; a low quantile keeps the ground."""
    above_tolerance: float = 0.3
    """A cell's lowest point counts as ground if at most this far above the window estimate..."""
    below_tolerance: float = 0.5
    """...and at most this far below it (further below is a reflection, not the ground)."""
    max_slope: float = 0.2
    """Largest rise of the ground per metre (20 %: steeper than nearly all roads)..."""
    slope_reach_cells: int = 6
    """...enforced over this many cells around each measured cell."""
    max_range: float | None = 80.0
    """Only points within this xy distance of the origin shape the map (None: all points)."""


@dataclass(frozen=True, eq=False)
class GroundModel:
    """The ground height z_ground(x, y) as a grid, in the frame of the points it came from.

    ``heights[i, j]`` is the ground height at the centre of cell (i, j), whose lower-left corner is
    ``origin_xy + (i, j) * cell_size``; between centres the height is bilinear, outside the grid
    the edge is held. ``measured`` marks cells with their own ground estimate (the rest are filled
    from the nearest measured cell).
    """

    origin_xy: FloatArray
    cell_size: float
    heights: FloatArray
    measured: BoolArray

    def height_at(self, xy: ArrayLike) -> FloatArray:
        """Ground height under (N, 2) xy positions (or one (2,) position: returns shape (1,))."""
        q = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        # map_coordinates works in index units, with samples at the cell centres.
        rows = (q[:, 0] - self.origin_xy[0]) / self.cell_size - 0.5
        cols = (q[:, 1] - self.origin_xy[1]) / self.cell_size - 0.5
        z: FloatArray = ndimage.map_coordinates(self.heights, [rows, cols], order=1, mode="nearest")
        return z

    def height_above(self, points: ArrayLike) -> FloatArray:
        """(N,) height of (N, >=3) points above the ground under them."""
        p = np.asarray(points, dtype=np.float64)
        above: FloatArray = p[:, 2] - self.height_at(p[:, :2])
        return above

    def ground_mask(self, points: ArrayLike, tolerance: float = 0.25) -> BoolArray:
        """(N,) True for points at most ``tolerance`` above the ground (or anywhere below it)."""
        mask: BoolArray = self.height_above(points) <= tolerance
        return mask


def _cell_lowest(xyz: FloatArray, origin: FloatArray, shape: tuple[int, int], cell: float) -> FloatArray:
    """Lowest z per cell, NaN where a cell holds no point."""
    ij = np.floor((xyz[:, :2] - origin) / cell).astype(np.int64)
    ij[:, 0] = np.clip(ij[:, 0], 0, shape[0] - 1)
    ij[:, 1] = np.clip(ij[:, 1], 0, shape[1] - 1)
    flat = np.full(shape[0] * shape[1], np.inf)
    np.minimum.at(flat, ij[:, 0] * shape[1] + ij[:, 1], xyz[:, 2])
    flat[np.isinf(flat)] = np.nan
    return flat.reshape(shape)


def _window_quantile(grid: FloatArray, window: int, quantile: float) -> FloatArray:
    """Quantile of the non-NaN values in a ``window`` x ``window`` neighbourhood of every cell."""
    pad = window // 2
    padded = np.pad(grid, pad, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, (window, window))
    stacked = windows.reshape(grid.shape[0], grid.shape[1], window * window)
    counts = np.count_nonzero(~np.isnan(stacked), axis=2)
    filled = counts > 0
    # np.nanquantile loops in Python over rows; sorting with NaN last and picking the rank is one call.
    ordered = np.sort(stacked[filled], axis=1)
    rank = np.floor(quantile * (counts[filled] - 1)).astype(np.int64)
    out = np.full(grid.shape, np.nan)
    out[filled] = ordered[np.arange(len(rank)), rank]
    return out


def _fill_nearest(grid: FloatArray) -> FloatArray:
    """Every NaN cell takes the value of the nearest non-NaN cell."""
    missing = np.isnan(grid)
    if not missing.any():
        return grid
    nearest = ndimage.distance_transform_edt(missing, return_distances=False, return_indices=True)
    filled: FloatArray = grid[tuple(nearest)]
    return filled


def _slope_limited(heights: FloatArray, rise_per_cell: float, reach_cells: int) -> FloatArray:
    """Lower every cell to at most its neighbours' height plus the largest plausible rise.

    Where an object hides the ground over a wide area (a car behind another car shows only its
    upper half) the window estimate sits on the object; ground measured a few metres away caps it.
    Each pass of an additive grey erosion lets a low cell cap its 8 neighbours.
    """
    offsets = np.hypot(*np.mgrid[-1:2, -1:2]) * rise_per_cell
    out = heights
    for _ in range(reach_cells):
        out = np.minimum(out, ndimage.grey_erosion(out, structure=-offsets, mode="nearest"))
    return out


def _flat_model(z: float) -> GroundModel:
    return GroundModel(np.zeros(2), 1.0, np.full((1, 1), z), np.zeros((1, 1), dtype=np.bool_))


def estimate_ground(points: ArrayLike, params: GroundParams | None = None) -> GroundModel:
    """The ground under a sweep (or any cloud: ego or world frame), from (N, >=3) points."""
    prm = params or GroundParams()
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"points must be N x 3 (or more columns), got shape {p.shape}")
    xyz = p[np.all(np.isfinite(p[:, :3]), axis=1), :3]
    if prm.max_range is not None:
        xyz = xyz[np.hypot(xyz[:, 0], xyz[:, 1]) <= prm.max_range]
    if len(xyz) == 0:
        return _flat_model(0.0)
    cell = prm.cell_size
    origin = np.floor(xyz[:, :2].min(axis=0) / cell) * cell
    shape_f = np.floor((xyz[:, :2].max(axis=0) - origin) / cell).astype(np.int64) + 1
    shape = (int(shape_f[0]), int(shape_f[1]))
    lowest = _cell_lowest(xyz, origin, shape, cell)
    estimate = _window_quantile(lowest, prm.window_cells, prm.window_quantile)
    agrees = (lowest <= estimate + prm.above_tolerance) & (lowest >= estimate - prm.below_tolerance)
    heights = np.where(agrees, lowest, estimate)
    measured: BoolArray = ~np.isnan(heights)
    limited = _slope_limited(_fill_nearest(heights), prm.max_slope * cell, prm.slope_reach_cells)
    return GroundModel(origin, cell, limited, measured)
