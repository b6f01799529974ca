"""Euclidean clustering on a real Argoverse 2 sweep: objects hold together and stay apart."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.clustering import NOISE, ClusterParams, cluster_members, euclidean_clusters
from labelpilot.geometry import points_in_cuboid
from tests.automation.lidar_evaluation import Sweep, av2_sweeps


@pytest.fixture(scope="module")
def sweep(sample_dir: Path) -> Sweep:
    return av2_sweeps(sample_dir / "argoverse2")[-1]


@pytest.fixture(scope="module")
def clustered(sweep: Sweep) -> tuple[np.ndarray, np.ndarray]:
    xyz = sweep.points[:, :3].astype(np.float64)
    height = sweep.ground.height_above(xyz)
    obj = xyz[(height > 0.25) & (height < 4.3) & (np.hypot(xyz[:, 0], xyz[:, 1]) < 50.0)]
    return obj, euclidean_clusters(obj)


def test_vehicles_fall_into_one_cluster_each(sweep: Sweep, clustered: tuple[np.ndarray, np.ndarray]) -> None:
    obj, labels = clustered
    shares = []
    owners = []
    for gt in sweep.truth:
        if gt.family != "vehicle" or gt.interior_points < 100 or np.hypot(*gt.cuboid.center[:2]) > 50.0:
            continue
        inside = labels[points_in_cuboid(obj, gt.cuboid)]
        inside = inside[inside != NOISE]
        main = np.bincount(inside).argmax()
        shares.append(np.mean(inside == main))
        owners.append(main)
    assert len(shares) >= 8
    # Nearly all of a vehicle's points are in its main cluster...
    assert np.median(shares) >= 0.95
    # ...and different vehicles mostly have different clusters (a few parked bumper to bumper may join).
    assert len(set(owners)) >= 0.75 * len(owners)


def test_labels_are_ranked_by_size_and_partition_the_points(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    _, labels = clustered
    members = cluster_members(labels)
    sizes = [len(m) for m in members]
    assert sizes == sorted(sizes, reverse=True)
    assert min(sizes) >= ClusterParams().min_points
    joined = np.sort(np.concatenate(members))
    assert np.array_equal(joined, np.flatnonzero(labels != NOISE))
    for k, m in enumerate(members[:20]):
        assert np.all(labels[m] == k)


def test_voxel_thinning_may_split_but_never_joins(clustered: tuple[np.ndarray, np.ndarray]) -> None:
    """Voxel representatives are original points and every point is within a voxel diagonal (less
    than the tolerance) of its representative: a thinned cluster always lies inside one full cluster."""
    obj, _ = clustered
    near = obj[np.hypot(obj[:, 0], obj[:, 1]) < 10.0]
    full = euclidean_clusters(near, ClusterParams(voxel_size=None, min_points=1))
    thinned = euclidean_clusters(near, ClusterParams(voxel_size=0.15, min_points=1))
    for label in np.unique(thinned):
        assert len(np.unique(full[thinned == label])) == 1
    # And it rarely splits: the number of clusters grows by a few per cent at most.
    assert len(np.unique(thinned)) <= 1.1 * len(np.unique(full))


def test_tiny_and_non_finite_inputs() -> None:
    assert euclidean_clusters(np.zeros((0, 3))).shape == (0,)
    two_blobs = np.array(
        [[0, 0, 0], [0.1, 0, 0], [0.2, 0, 0], [5, 0, 0], [5.1, 0, 0], [np.nan, 0, 0]], dtype=float
    )
    labels = euclidean_clusters(two_blobs, ClusterParams(min_points=2, voxel_size=None))
    assert labels.tolist() == [0, 0, 0, 1, 1, NOISE]
    assert euclidean_clusters(two_blobs, ClusterParams(min_points=3, voxel_size=None)).tolist() == [
        0,
        0,
        0,
        -1,
        -1,
        -1,
    ]
    with pytest.raises(ValueError, match="N x 3"):
        euclidean_clusters(np.zeros((3, 2)))
