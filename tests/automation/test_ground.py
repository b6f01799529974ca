"""Ground removal on real sweeps: Argoverse 2 (ground truth box bottoms) and the KITTI odometry drive.

Bounds come from a first run on these sweeps with headroom: the ground under AV2 boxes with >= 20
points was within 0.05 m (median) of the box bottoms, 0.14 m at the 90th percentile; about 10 % of
the points inside those boxes (their lowest slice) were called ground.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from labelpilot.automation.ground import GroundParams, estimate_ground
from labelpilot.automation.sweep_access import SceneSweeps
from labelpilot.formats import read_scene
from labelpilot.geometry import points_in_cuboid
from tests.automation.lidar_evaluation import Sweep, av2_sweeps

# KITTI's Velodyne is mounted 1.73 m above the road (Geiger et al., IJRR 2013, fig. 3), and the
# odometry ego frame is the Velodyne: the road near the car is at z = -1.73.
KITTI_LIDAR_HEIGHT = 1.73


@pytest.fixture(scope="module")
def sweeps(sample_dir: Path) -> list[Sweep]:
    return av2_sweeps(sample_dir / "argoverse2")


def _bottom_errors(sweeps: list[Sweep]) -> np.ndarray:
    errors = []
    for sweep in sweeps:
        for gt in sweep.truth:
            if gt.interior_points >= 20 and np.hypot(*gt.cuboid.center[:2]) <= 80.0:
                bottom = gt.cuboid.center[2] - gt.cuboid.size[2] / 2.0
                errors.append(float(sweep.ground.height_at(gt.cuboid.center[:2])[0]) - bottom)
    return np.asarray(errors)


def test_ground_height_matches_ground_truth_box_bottoms(sweeps: list[Sweep]) -> None:
    errors = np.abs(_bottom_errors(sweeps))
    assert len(errors) >= 50
    assert np.median(errors) <= 0.12
    assert np.percentile(errors, 90) <= 0.3


def test_objects_are_mostly_not_ground(sweeps: list[Sweep]) -> None:
    shares = []
    for sweep in sweeps:
        mask = sweep.ground.ground_mask(sweep.points)
        for gt in sweep.truth:
            if gt.interior_points >= 20 and gt.cuboid.size[2] > 1.0:
                inside = points_in_cuboid(sweep.points[:, :3], gt.cuboid)
                shares.append(float(mask[inside].mean()))
    assert np.mean(shares) <= 0.2


def test_kitti_road_is_at_the_lidar_mounting_height(sample_dir: Path) -> None:
    scene = read_scene("kitti-odometry", sample_dir / "kitti-odometry-00-demo")
    points = SceneSweeps(scene).points_ego(0)
    assert points is not None
    ground = estimate_ground(points)
    ring = np.array(
        [[r * np.cos(a), r * np.sin(a)] for r in (4.0, 6.0) for a in np.linspace(0, 2 * np.pi, 12)]
    )
    assert np.median(ground.height_at(ring)) == pytest.approx(-KITTI_LIDAR_HEIGHT, abs=0.1)
    # Most of a street sweep near the car is road or pavement.
    near = np.hypot(points[:, 0], points[:, 1]) < 20.0
    assert ground.ground_mask(points[near]).mean() > 0.5


def test_ground_follows_a_lifted_and_moved_cloud(sweeps: list[Sweep]) -> None:
    """Nothing assumes the sensor height or the origin: the same cloud 5 m higher and 1 km away
    (as in a world frame) has the same ground, 5 m higher and 1 km away."""
    sweep = sweeps[0]
    xyz = sweep.points[:, :3].astype(np.float64)
    xyz = xyz[np.hypot(xyz[:, 0], xyz[:, 1]) <= 60.0]
    offset = np.array([1000.0, -500.0, 5.0])
    params = GroundParams(max_range=None)
    here = estimate_ground(xyz, params)
    there = estimate_ground(xyz + offset, params)
    probes = xyz[::500, :2]
    assert np.allclose(there.height_at(probes + offset[:2]), here.height_at(probes) + 5.0, atol=1e-6)
    assert np.array_equal(here.ground_mask(xyz), there.ground_mask(xyz + offset))


def test_ground_of_nothing_and_bad_shapes() -> None:
    flat = estimate_ground(np.zeros((0, 3)))
    assert flat.height_at([3.0, 4.0]).tolist() == [0.0]
    with pytest.raises(ValueError, match="N x 3"):
        estimate_ground(np.zeros((10, 2)))
    # Non-finite returns are ignored rather than poisoning the map.
    cloud = np.array([[1.0, 1.0, -1.7], [2.0, 1.0, -1.7], [np.nan, 0.0, 0.0], [np.inf, 1.0, 1.0]])
    assert estimate_ground(cloud).height_at([1.5, 1.0])[0] == pytest.approx(-1.7)
