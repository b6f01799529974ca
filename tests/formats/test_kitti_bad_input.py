"""KITTI tracking and odometry on garbled copies of the real files: a FormatError naming the file and
the line or field, and a failed write that leaves the output untouched."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from labelpilot.formats import FormatError, kitti_odometry, kitti_tracking
from labelpilot.geometry import Pose
from labelpilot.tracks import Track

SEQUENCE = "0001"
LABELS = f"training/label_02/{SEQUENCE}.txt"
CALIB = f"training/calib/{SEQUENCE}.txt"
POSES = f"poses/orbslam3/{SEQUENCE}.txt"
DETECTIONS = f"detections/pointrcnn_Car/{SEQUENCE}.txt"
TRACKER = f"tracker/pointrcnn_Car_hailanyi/{SEQUENCE}.txt"


@pytest.fixture
def root(sample_dir: Path, tmp_path: Path) -> Path:
    """A copy of the sample's sequence 0001 (labels, calib, poses, detections, tracker)."""
    source = sample_dir / "kitti-tracking"
    copy = tmp_path / "kitti"
    for relative in (LABELS, CALIB, POSES, DETECTIONS, TRACKER):
        (copy / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / relative, copy / relative)
    return copy


def edit_line(path: Path, number: int, change: Callable[[str], str]) -> None:
    """Rewrite line ``number`` (1-based) of a file."""
    lines = path.read_text().splitlines()
    lines[number - 1] = change(lines[number - 1])
    path.write_text("\n".join(lines) + "\n")


def set_token(index: int, value: str, sep: str | None = None) -> Callable[[str], str]:
    def change(line: str) -> str:
        tokens = line.split(sep)
        tokens[index] = value
        return (sep or " ").join(tokens)

    return change


def first_object_line(path: Path) -> int:
    """The 1-based number of the first line that is not DontCare (found, not assumed)."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if " DontCare " not in line:
            return number
    raise AssertionError(f"{path} has only DontCare lines")


# (case id, file, change to the line, line picked how, field the error must name, text in the message)
LABEL_CASES = [
    ("truncated line", LABELS, lambda line: " ".join(line.split()[:12]), None, "expected 17 columns"),
    ("garbled number", LABELS, set_token(13, "1.2.3"), "x", "'1.2.3' is not a number"),
    ("nan", LABELS, set_token(10, "nan"), "h", "not a finite number"),
    ("unknown class", LABELS, set_token(2, "Spaceship"), "type", "unknown class 'Spaceship'"),
    ("negative size", LABELS, set_token(12, "-4.1"), "l", "must not be negative"),
    ("bad track id", LABELS, set_token(1, "seven"), "track_id", "not an integer"),
    ("tracker missing score", TRACKER, lambda line: " ".join(line.split()[:17]), None, "expected 18 columns"),
    ("detection class code", DETECTIONS, set_token(1, "7", ","), "type", "unknown class code 7"),
    ("detection garbled", DETECTIONS, set_token(10, "x4.2", ","), "x", "'x4.2' is not a number"),
    ("pose garbled", POSES, set_token(3, "1e"), "pose", "not a number"),
    ("pose not a rotation", POSES, set_token(0, "3.0"), "pose", "not a rotation"),
    ("calib garbled", CALIB, set_token(3, "abc"), "P2", "'abc' is not a number"),
    ("calib short", CALIB, lambda line: " ".join(line.split()[:8]), "P2", "needs 12 numbers"),
]


@pytest.mark.parametrize(
    ("relative", "change", "field", "message"),
    [case[1:] for case in LABEL_CASES],
    ids=[case[0] for case in LABEL_CASES],
)
def test_garbled_line_names_file_line_and_field(
    root: Path, relative: str, change: Callable[[str], str], field: str | None, message: str
) -> None:
    path = root / relative
    if relative == CALIB:
        number = 3  # the P2 line
    elif relative == LABELS:
        number = first_object_line(path)
    else:
        number = 7
    edit_line(path, number, change)
    with pytest.raises(FormatError) as err:
        kitti_tracking.read(root, SEQUENCE)
    assert err.value.path == str(path)
    assert err.value.line == number
    assert err.value.field == field
    assert message in str(err.value) and path.name in str(err.value)


def test_track_changing_class_is_refused(root: Path) -> None:
    path = root / LABELS
    lines = path.read_text().splitlines()
    first = first_object_line(path)
    track_id = lines[first - 1].split()[1]
    later = next(i for i in range(first, len(lines)) if lines[i].split()[1] == track_id) + 1
    edit_line(path, later, set_token(2, "Tram"))
    with pytest.raises(FormatError, match=f"track {track_id} is 'Car'") as err:
        kitti_tracking.read(root, SEQUENCE)
    assert (err.value.line, err.value.field) == (later, "type")


def test_poses_with_fewer_rows_than_frames(root: Path) -> None:
    path = root / POSES
    path.write_text("\n".join(path.read_text().splitlines()[:100]) + "\n")
    with pytest.raises(FormatError, match="has 100 poses but 447 frames are needed") as err:
        kitti_tracking.read(root, SEQUENCE)
    assert err.value.path == str(path) and err.value.line == 101


def test_missing_calib(root: Path) -> None:
    (root / CALIB).unlink()
    with pytest.raises(FormatError, match="file not found") as err:
        kitti_tracking.read(root, SEQUENCE)
    assert err.value.path == str(root / CALIB)


def test_calib_without_the_lidar_extrinsic(root: Path) -> None:
    path = root / CALIB
    path.write_text("".join(line + "\n" for line in path.read_text().splitlines() if "Tr_velo" not in line))
    with pytest.raises(FormatError, match="no Tr_velo_cam") as err:
        kitti_tracking.read(root, SEQUENCE)
    assert err.value.field == "Tr_velo_cam"


def test_missing_sequence(root: Path) -> None:
    with pytest.raises(FormatError, match="no sequence '0099'; this root holds: 0001") as err:
        kitti_tracking.read(root, "0099")
    assert err.value.field == "sequence" and err.value.path == str(root)


def test_missing_pose_source(root: Path) -> None:
    with pytest.raises(FormatError, match="pose sources: orbslam3") as err:
        kitti_tracking.read_sequence(root, SEQUENCE, poses_name="gps")
    assert err.value.field == "poses"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_write_leaves_the_output_untouched(root: Path, tmp_path: Path) -> None:
    scene = kitti_tracking.read(root, SEQUENCE)
    out = tmp_path / "out"
    kitti_tracking.write(scene, out)
    before = snapshot(out)
    # A track whose life runs past the scene's last frame cannot be written; the tracks before it
    # in the layer can, and none of that may reach the output.
    beyond = len(scene.frames) + 3
    layer = scene.layer("ground_truth")
    layer.tracks.append(Track.keyframed("999", "Car", [4.0, 1.8, 1.5], {beyond: Pose.identity()}))
    with pytest.raises(ValueError, match="spans frames"):
        kitti_tracking.write(scene, out)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kitti", "out"]  # no staging left behind


# --- odometry --------------------------------------------------------------------------------------


@pytest.fixture
def cloud_folder(sample_dir: Path, tmp_path: Path) -> Path:
    """The sova-layout sample with its clouds linked, not copied (29 MB)."""
    source = sample_dir / "kitti-odometry-00"
    copy = tmp_path / "kitti-odometry-00"
    copy.mkdir()
    (copy / "clouds").symlink_to(source / "clouds", target_is_directory=True)
    shutil.copytree(source / "poses_sova", copy / "poses_sova")
    for path in source.glob("*.txt"):
        shutil.copy(path, copy / path.name)
    return copy


def gt_pose_file(folder: Path) -> Path:
    return next(folder.glob("*_with_time.txt"))


def test_odometry_gt_poses_with_fewer_rows_than_clouds(cloud_folder: Path) -> None:
    path = gt_pose_file(cloud_folder)
    clouds = len(list((cloud_folder / "clouds").glob("*.pcd")))
    kept = clouds - 1
    path.write_text("\n".join(path.read_text().splitlines()[:kept]) + "\n")
    with pytest.raises(FormatError, match=f"has {kept} poses but {clouds} frames are needed") as err:
        kitti_odometry.read(cloud_folder)
    assert err.value.path == str(path) and err.value.line == kept + 1


def test_odometry_garbled_time(cloud_folder: Path) -> None:
    path = gt_pose_file(cloud_folder)
    edit_line(path, 4, set_token(0, "0.3x"))
    with pytest.raises(FormatError, match=r"'0\.3x' is not a number") as err:
        kitti_odometry.read(cloud_folder)
    assert (err.value.path, err.value.line, err.value.field) == (str(path), 4, "time")


def test_odometry_missing_sova_pose(cloud_folder: Path) -> None:
    gt_pose_file(cloud_folder).unlink()
    missing = cloud_folder / "poses_sova" / "2.txt"
    missing.unlink()
    with pytest.raises(FormatError, match="missing") as err:
        kitti_odometry.read(cloud_folder)
    assert err.value.path == str(missing)


def test_odometry_calib_without_tr(cloud_folder: Path) -> None:
    path = cloud_folder / "calib.txt"
    path.write_text(
        "".join(line + "\n" for line in path.read_text().splitlines() if not line.startswith("Tr"))
    )
    with pytest.raises(FormatError, match="no Tr") as err:
        kitti_odometry.read(cloud_folder)
    assert (err.value.path, err.value.field) == (str(path), "Tr")


def test_odometry_unknown_layout(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="not a KITTI odometry folder"):
        kitti_odometry.read(tmp_path)
