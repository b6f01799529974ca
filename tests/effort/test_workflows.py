"""The effort accounting on hand-made scenes whose cheapest labeling is known by hand, run through the
service layer on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.effort.workflows import WorkflowName, WorkflowSettings
from labelpilot.services.effort_runs import SceneSource, WorkflowOutcome, prepare_scene, run_one
from labelpilot.store.blobs import BlobStore
from tests.effort.handmade import SEQUENCE, Box, car_driving_ahead, parked_car, write_sequence

K, B, P, M = 0.20, 0.10, 1.10, 1.35
NEXT, JUMP, INSPECT, SCAN, SELECT, ACCEPT = K, P + 2 * B, M, 2 * M, P + 2 * B, K
DRAW, MOVE, SUBMIT = M + 3 * (2 * P + 2 * B) + (P + 2 * B), 2 * P + 2 * B, M + K


def run(
    db_factory: sessionmaker[Session],
    tmp_path: Path,
    root: Path,
    workflows: list[WorkflowName],
    auto: str | None,
    name: str = "handmade",
) -> dict[str, WorkflowOutcome]:
    blobs = BlobStore(str(tmp_path / "blobs"))
    source = SceneSource("kitti-tracking", root, SEQUENCE, auto, name)
    with db_factory.begin() as session:
        prepared = prepare_scene(session, blobs, source, WorkflowSettings())
        return {w: run_one(session, blobs, prepared, w) for w in workflows}


@pytest.fixture
def parked(tmp_path: Path, sample_dir: Path) -> Path:
    return write_sequence(tmp_path / "parked", sample_dir, {0: parked_car()}, tracker={7: parked_car()})


def test_a_parked_car_costs_what_the_effort_model_says(
    db_factory: sessionmaker[Session], tmp_path: Path, parked: Path
) -> None:
    out = run(db_factory, tmp_path, parked, ["frame_by_frame", "keyframes_sensor_frame"], "auto:handmade")
    # Frame by frame: scan frame 0 and draw the car; then 29 times: next frame, copy forward, look,
    # scan the frame for new objects; submit.
    by_frame = out["frame_by_frame"].figures
    assert by_frame.seconds == pytest.approx(SCAN + DRAW + 29 * (NEXT + ACCEPT + INSPECT + SCAN) + SUBMIT)
    assert by_frame.seconds_by_action == pytest.approx(
        {
            "scan_frame": 30 * SCAN,
            "draw_cuboid": DRAW,
            "next_frame": 29 * NEXT,
            "accept": 29 * ACCEPT,
            "inspect": 29 * INSPECT,
            "submit": SUBMIT,
        }
    )
    # Keyframes: scans at frames 0, 10, 20, 29 (one second apart at 10 Hz), each reached with a key (a
    # frame-step of ten, the last-frame key); draw at 0; at every later scan select the track, extend
    # it there, look (the held box still fits); no stretch longer than a second is left without a look
    # at one of its ends, so bisection adds nothing.
    keyed = out["keyframes_sensor_frame"].figures
    assert keyed.seconds == pytest.approx(SCAN + DRAW + 3 * (NEXT + SCAN + SELECT + INSPECT) + SUBMIT)
    for outcome in out.values():
        counts = outcome.evaluation.overall
        assert (counts.gt_shapes, counts.delivered_shapes, counts.passing_shapes) == (30, 30, 30)
        assert outcome.evaluation.by_split["stationary"].gt_shapes == 30
        assert outcome.figures.by_split_seconds["stationary"] == pytest.approx(outcome.figures.seconds)


def test_ground_truth_that_changes_where_nobody_looked_fails(
    db_factory: sessionmaker[Session], tmp_path: Path, sample_dir: Path
) -> None:
    root = write_sequence(tmp_path / "outlier", sample_dir, {0: car_driving_ahead(outlier=7)})
    out = run(db_factory, tmp_path, root, ["frame_by_frame", "keyframes_sensor_frame"], None)
    # Keyframes at the scans (0, 10, 20, 29), looks by bisection at 5, 15, 24: the label at frame 7,
    # two metres off the car's straight path, is never looked at, so the interpolated box delivered
    # there fails (EFFORT_MODEL rule 3) ...
    keyed = out["keyframes_sensor_frame"]
    assert [frame for _, frame in keyed.evaluation.failing] == [7]
    assert keyed.evaluation.overall.passing_shapes == 29
    assert keyed.figures.seconds_by_action["move"] == pytest.approx(3 * MOVE)  # at 10, 20, 29
    # ... while stepping frame by frame sees it, and pays for it with a move.
    stepped = out["frame_by_frame"]
    assert stepped.evaluation.failing == [] and stepped.evaluation.overall.passing_shapes == 30
    assert stepped.figures.seconds > 3 * keyed.figures.seconds


def test_guided_confirms_a_parked_candidate_once(
    db_factory: sessionmaker[Session], tmp_path: Path, parked: Path
) -> None:
    out = run(db_factory, tmp_path, parked, ["frame_by_frame", "guided"], "auto:handmade")
    guided = out["guided"]
    assert guided.evaluation.overall.passing_shapes == 30 and guided.evaluation.failing == []
    # No drawing: the tracker's candidate is confirmed; the scans find nothing without a shape.
    assert "draw_cuboid" not in guided.figures.seconds_by_action
    assert guided.figures.seconds < out["frame_by_frame"].figures.seconds / 3


def test_guided_accepts_a_life_the_evidence_supports_with_one_key(
    db_factory: sessionmaker[Session], tmp_path: Path, parked: Path
) -> None:
    # The parked car is seen from the scene's first to its last frame: both ends of its proposed life
    # are strong (the scene begins and ends there), so the life is accepted with one key and no end is
    # looked for.
    out = run(db_factory, tmp_path, parked, ["guided"], "auto:handmade")
    guided = out["guided"]
    by_action = guided.figures.seconds_by_action
    assert guided.evaluation.overall.passing_shapes == 30 and guided.evaluation.failing == []
    assert by_action["accept"] == pytest.approx(ACCEPT)
    # One look: the candidate's one world box in the stationary review, at its best view (so no
    # measurement view is offered after it); none at the life's ends.
    assert by_action["inspect"] == pytest.approx(INSPECT)
    assert "reject" not in by_action


def test_labelpilot_opens_every_check_by_key_where_other_tools_jump(
    db_factory: sessionmaker[Session], tmp_path: Path, sample_dir: Path
) -> None:
    root = write_sequence(tmp_path / "outlier", sample_dir, {0: car_driving_ahead(outlier=7)})
    out = run(db_factory, tmp_path, root, ["keyframes_sensor_frame", "guided_without_auto_labels"], None)
    # Both check the track by the same bisection between the scans: a sensor-frame tool reaches each look
    # with a mouse jump, LabelPilot's check key opens it (guidance.checks.next_check); every scanned
    # frame is a key press in both. The sensor-frame tool holds the box at each extension, so the box
    # is corrected at 10, 20 and 29 and the stretches before them get looks at 5, 15 and 24.
    keyed = out["keyframes_sensor_frame"].figures.seconds_by_action
    assert keyed["jump_to_frame"] == pytest.approx(3 * JUMP)
    assert keyed["move"] == pytest.approx(3 * MOVE)
    # LabelPilot: at 10 the scan finds the car past its one keyframe (select, look, move). Keyed twice,
    # the track's life is proposed to go on where its keyframes lead: accepted (a key) to 20, where the
    # continued box is looked at (the queue opens the weak end) and is right (it drives straight on),
    # then to 29, the scene's end (a strong end, no look). The scans at 20 and 29 find nothing to
    # extend. The one check is at 5, before the corrected frame 10; every look is opened by key.
    guided = out["guided_without_auto_labels"].figures.seconds_by_action
    assert "jump_to_frame" not in guided
    assert guided["select"] == pytest.approx(SELECT)
    assert guided["move"] == pytest.approx(MOVE)
    assert guided["inspect"] == pytest.approx(3 * INSPECT)  # at 10, 20 and 5
    assert guided["next_item"] == pytest.approx(2 * NEXT)  # the end at 20, the check at 5
    assert guided["accept"] == pytest.approx(3 * ACCEPT)  # two lives, the box found right at 5


def test_guided_skips_a_candidate_a_confirmed_track_already_covers(
    db_factory: sessionmaker[Session], tmp_path: Path, sample_dir: Path, parked: Path
) -> None:
    # The tracker gives the parked car twice (two tracks over the same frames). Once the first is
    # confirmed, the queue no longer offers the second (``guidance.coverage``): it costs nothing, and
    # the run costs exactly what the single-candidate scene costs.
    twice = write_sequence(
        tmp_path / "twice", sample_dir, {0: parked_car()}, tracker={7: parked_car(), 8: parked_car()}
    )
    single = run(db_factory, tmp_path / "single", parked, ["guided"], "auto:handmade", "single")["guided"]
    double = run(db_factory, tmp_path / "double", twice, ["guided"], "auto:handmade", "double")["guided"]
    assert double.evaluation.overall.passing_shapes == 30 and double.evaluation.failing == []
    assert "reject" not in double.figures.seconds_by_action
    assert double.figures.seconds_by_action == pytest.approx(single.figures.seconds_by_action)


def test_guided_rejects_every_suggested_false_positive_with_one_key(
    db_factory: sessionmaker[Session], tmp_path: Path, sample_dir: Path, parked: Path
) -> None:
    # Three short, unsure tracker tracks where nothing is (a logit of 1: sure enough to become
    # candidates, not sure enough for a vehicle seen in 5 frames): the queue suggests each as a false
    # positive, and one key (alt+x) rejects them all; the run costs one key more than the scene without
    # them.
    ghosts = {20 + i: [Box(f, x=-8.0 + 8.0 * i, z=35.0) for f in range(10, 15)] for i in range(3)}
    root = write_sequence(
        tmp_path / "ghosts",
        sample_dir,
        {0: parked_car()},
        tracker={7: parked_car(), **ghosts},
        tracker_scores=dict.fromkeys(ghosts, 1.0),
    )
    single = run(db_factory, tmp_path / "single", parked, ["guided"], "auto:handmade", "single")["guided"]
    with_ghosts = run(db_factory, tmp_path / "ghosts", root, ["guided"], "auto:handmade", "ghosts")["guided"]
    assert with_ghosts.evaluation.overall.passing_shapes == 30
    assert with_ghosts.evaluation.overall.delivered_shapes == 30
    by_action = with_ghosts.figures.seconds_by_action
    assert by_action["reject"] == pytest.approx(K)
    assert with_ghosts.figures.seconds == pytest.approx(single.figures.seconds + K)


def test_a_drawn_parked_car_is_carried_to_the_scene_end_with_one_key(
    db_factory: sessionmaker[Session], tmp_path: Path, sample_dir: Path
) -> None:
    root = write_sequence(tmp_path / "drawn", sample_dir, {0: parked_car()})
    out = run(db_factory, tmp_path, root, ["guided_without_auto_labels"], None)
    guided = out["guided_without_auto_labels"]
    assert guided.evaluation.overall.passing_shapes == 30 and guided.evaluation.failing == []
    # Scans at 0, 10, 20 and 29 (a key each after the first). Drawn at 0; at 10 the held box is found
    # right: marked stationary, and the life the tool proposes (the scene ends with the box in view, a
    # strong end) taken with one key, so the scans at 20 and 29 find nothing to extend. The one more
    # look is the measurement view, opened by key.
    mark = K
    assert guided.figures.seconds == pytest.approx(
        4 * SCAN + 3 * NEXT + DRAW + SELECT + INSPECT + mark + ACCEPT + NEXT + INSPECT + SUBMIT
    )
    assert guided.figures.seconds_by_action["select"] == pytest.approx(SELECT)


def test_a_candidate_seen_before_its_object_is_labelled_is_trimmed_by_one_end_search(
    db_factory: sessionmaker[Session], tmp_path: Path, sample_dir: Path
) -> None:
    # A car coming toward the ego, labelled only from frame 12 on, while the tracker follows it from
    # frame 0. Confirmed where it is best seen (near, at the end), the first suggested keyframe (0)
    # shows no car: the end search (e, from inside the life) bisects between 0 and the frame seen, and
    # the life starts at 12 in one edit; no frame before it is cut out one at a time and no end is
    # looked at again.
    coming = [Box(f, x=2.0, z=25.0 - 0.5 * f, rotation_y=1.5708) for f in range(30)]
    root = write_sequence(tmp_path / "late", sample_dir, {0: coming[12:]}, tracker={7: coming})
    guided = run(db_factory, tmp_path, root, ["guided"], "auto:handmade")["guided"]
    counts = guided.evaluation.overall
    assert (counts.gt_shapes, counts.delivered_shapes, counts.passing_shapes) == (18, 18, 18)
    assert guided.figures.seconds_by_action["reject"] == pytest.approx(K)  # the one e
