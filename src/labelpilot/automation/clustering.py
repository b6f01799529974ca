"""Euclidean clustering of lidar points: points closer than a tolerance belong to one object.

This is single-linkage clustering (the classic Euclidean cluster extraction of lidar pipelines,
equivalent to DBSCAN with one sample per core point): a k-d tree lists every pair of points
within the tolerance and the connected components of that graph are the clusters (scipy's
``cKDTree.query_pairs`` and ``csgraph.connected_components``). A full sweep is first thinned to
one point per voxel, which keeps the pair count (and the time) bounded on dense near-range
surfaces without changing which objects touch; every original point inherits its voxel's label.

On 120k-point HDL-64 and Argoverse 2 sweeps (about 50-70k non-ground points within 60 m) this
takes a few tens of milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

NOISE = -1
"""Label of points in clusters smaller than ``min_points``."""


@dataclass(frozen=True)
class ClusterParams:
    tolerance: float = 0.6
    """Largest gap (metres) inside one object. HDL-64 rings are ~0.3 m apart at 40 m; cars parked
    bumper to bumper are usually further apart than this."""
    voxel_size: float | None = 0.15
    """Thin to one point per voxel of this side first (None: cluster every point)."""
    min_points: int = 5
    """Clusters with fewer original points are labelled NOISE."""
    z_scale: float = 1.0
    """Vertical distances are multiplied by this before the tolerance test (below 1 joins points
    stacked vertically more easily, e.g. sparse rings on far objects)."""


def _voxel_representatives(xyz: FloatArray, voxel: float) -> tuple[IntArray, IntArray]:
    """Index of one point per occupied voxel, and for every point the number of its voxel."""
    cells = np.floor(xyz / voxel).astype(np.int64)
    cells -= cells.min(axis=0)
    extent = cells.max(axis=0) + 1
    # One integer per voxel makes np.unique one-dimensional, several times faster than axis=0.
    keys = (cells[:, 0] * extent[1] + cells[:, 1]) * extent[2] + cells[:, 2]
    _, first, voxel_of_point = np.unique(keys, return_index=True, return_inverse=True)
    return first.astype(np.int64), voxel_of_point.astype(np.int64).reshape(-1)


def _components(xyz: FloatArray, tolerance: float) -> IntArray:
    if len(xyz) == 1:
        return np.zeros(1, dtype=np.int64)
    pairs = cKDTree(xyz).query_pairs(tolerance, output_type="ndarray")
    graph = coo_matrix(
        (np.ones(len(pairs), dtype=np.int8), (pairs[:, 0], pairs[:, 1])), shape=(len(xyz),) * 2
    )
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)


def euclidean_clusters(points: ArrayLike, params: ClusterParams | None = None) -> IntArray:
    """(N,) cluster label of each of the (N, >=3) points: 0 is the largest cluster, 1 the next, ...;
    NOISE (-1) for points in clusters with fewer than ``min_points`` points or with non-finite coordinates."""
    prm = params or ClusterParams()
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 3:
        raise ValueError(f"points must be N x 3 (or more columns), got shape {p.shape}")
    labels = np.full(len(p), NOISE, dtype=np.int64)
    finite = np.flatnonzero(np.all(np.isfinite(p[:, :3]), axis=1))
    if len(finite) == 0:
        return labels
    xyz = p[finite, :3] * np.array([1.0, 1.0, prm.z_scale])
    if prm.voxel_size is not None and prm.voxel_size > 0:
        representatives, voxel_of_point = _voxel_representatives(xyz, prm.voxel_size)
        raw = _components(xyz[representatives], prm.tolerance)[voxel_of_point]
    else:
        raw = _components(xyz, prm.tolerance)
    # Renumber by size (largest first) and drop the small ones.
    ids, counts = np.unique(raw, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    rank = np.full(len(ids), NOISE, dtype=np.int64)
    big = counts[order] >= prm.min_points
    rank[order[big]] = np.arange(int(big.sum()))
    labels[finite] = rank[np.searchsorted(ids, raw)]
    return labels


def cluster_members(labels: IntArray) -> list[IntArray]:
    """Point indices of each cluster, in label order (NOISE left out)."""
    valid = np.flatnonzero(labels >= 0)
    if len(valid) == 0:
        return []
    order = valid[np.argsort(labels[valid], kind="stable")]
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    return [part.astype(np.int64) for part in np.split(order, bounds)]
