"""KPIs of a real project on SQLite and PostgreSQL: tasks and edits made through the services on the
KITTI sample, the events then placed at known times, and every number checked by hand.

The history (2026-12-14, UTC; idle threshold 120 s; an hour costs 30 EUR):

meg   09:00:00 task_created (ann's task), 09:01:00 task_created (abe's) +60, 16:00:00 cost set to 30 (+0)
ann   10:00:00 task_started; 10:00:50 draws a track at frames 0..9 (+50); 10:01:30 marks 3 and 4 absent
      (+40); 10:02:00 confirms a tracker candidate (+30); 10:09:00 draws a stationary track over frames
      5..14 (7 minutes away: +0); 10:09:20 draws one more (+20); 10:09:30 deletes it (+10); 10:10:30 a
      nudge shown (+60); 10:11:00 followed (+30); 10:13:00 submits (+120: exactly the threshold)
      -> 360 s; shapes 8 + the candidate's + 10
abe   14:00:00 task_started; 14:01:00 draws a track at frames 2..6 (+60); 14:01:30 submits (+30) -> 90 s, 5 shapes
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import (
    kpi_reports,
    kpi_rollups,
    projects,
    task_events,
    tasks,
    track_edits,
    track_life,
)
from labelpilot.services.actors import Actor
from labelpilot.services.errors import ForbiddenError, NotFoundError
from labelpilot.store.tables import EventRow
from tests.services.scene_rows import (
    TRACKER_LAYER,
    EditScene,
    kitti_scene,
    longest_candidate,
    make_edit_scene,
)

IDLE = 120.0
NOW = datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
COST = 30.0


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 12, 14, hour, minute, second, tzinfo=UTC)


PLAN: list[tuple[str, str, datetime]] = [
    ("meg", "task_created", at(9, 0)),
    ("ann", "task_started", at(10, 0)),
    ("ann", "track_created", at(10, 0, 50)),
    ("ann", "frames_absent_set", at(10, 1, 30)),
    ("ann", "candidate_confirmed", at(10, 2)),
    ("ann", "track_created", at(10, 9)),
    ("ann", "track_created", at(10, 9, 20)),
    ("ann", "track_deleted", at(10, 9, 30)),
    ("ann", "nudge_shown", at(10, 10, 30)),
    ("ann", "nudge_followed", at(10, 11)),
    ("ann", "task_submitted", at(10, 13)),
    ("meg", "task_created", at(9, 1)),
    ("abe", "task_started", at(14, 0)),
    ("abe", "track_created", at(14, 1)),
    ("abe", "task_submitted", at(14, 1, 30)),
    ("meg", "project_settings_changed", at(16, 0)),
]
"""Every event of the project in the order the services record it: who, what, and when it is placed."""


def _pose(x: float) -> dict[str, Any]:
    return {"center": [x, 4.0, 0.8], "yaw": 0.2}


@dataclass(frozen=True)
class History:
    scene: EditScene
    abe_task: int
    candidate_shapes: int
    """shapes of the confirmed tracker candidate: its frames as the importer read them"""

    @property
    def ann_shapes(self) -> int:
        return 8 + self.candidate_shapes + 10


def _make_history(db: sessionmaker[Session]) -> History:
    scene = make_edit_scene(db)
    team, scene_id, task_id = scene.team, scene.stored.scene_id, scene.task_id
    key = longest_candidate()
    candidate_shapes = len(
        next(t for t in kitti_scene().layers[TRACKER_LAYER].tracks if t.track_id == key).frames()
    )

    def as_ann(step: Callable[[Session], Any]) -> Any:
        with db.begin() as s:
            return step(s)

    ann = team.ann
    drawn = as_ann(
        lambda s: track_edits.create_track(
            s,
            ann,
            scene_id,
            "work",
            "Car",
            [4.0, 1.8, 1.5],
            keyframes={"0": _pose(1), "9": _pose(9)},
            task_id=task_id,
        )
    ).track["id"]
    as_ann(lambda s: track_life.set_absent(s, ann, drawn, 1, [3, 4], True, task_id=task_id))
    candidate = scene.stored.track_ids[(TRACKER_LAYER, key)]
    as_ann(lambda s: track_edits.confirm_candidate(s, ann, candidate, 1, task_id=task_id))
    as_ann(
        lambda s: track_edits.create_track(
            s, ann, scene_id, "work", "Car", [4.0, 1.8, 1.5], stationary_pose=_pose(20),
            first_frame=5, last_frame=14, task_id=task_id,
        )
    )  # fmt: skip
    mistake = as_ann(
        lambda s: track_edits.create_track(
            s, ann, scene_id, "work", "Van", [5.0, 2.0, 2.0], keyframes={"1": _pose(30)}, task_id=task_id
        )
    ).track["id"]
    as_ann(lambda s: track_edits.delete_track(s, ann, mistake, 1, task_id=task_id))
    nudge = {"nudge_kind": "make_stationary", "track_id": drawn}
    as_ann(lambda s: task_events.record_task_event(s, ann, task_id, "nudge_shown", nudge))
    as_ann(lambda s: task_events.record_task_event(s, ann, task_id, "nudge_followed", nudge))
    as_ann(lambda s: tasks.submit_task(s, ann, task_id))
    with db.begin() as s:
        abe_task = tasks.create_task(
            s, team.manager, team.project_id, scene_id, "annotate", "abe-work", "abe"
        ).id
    with db.begin() as s:
        tasks.start_task(s, team.abe, abe_task)
        track_edits.create_track(
            s, team.abe, scene_id, "abe-work", "Car", [4.0, 1.8, 1.5],
            keyframes={"2": _pose(2), "6": _pose(6)}, task_id=abe_task,
        )  # fmt: skip
        tasks.submit_task(s, team.abe, abe_task)
    with db.begin() as s:
        projects.update_project_settings(s, team.manager, team.project_id, hourly_cost_eur=COST)
    _place_events(db, scene)
    return History(scene, abe_task, candidate_shapes)


def _place_events(db: sessionmaker[Session], scene: EditScene) -> None:
    names = {scene.team.manager.user_id: "meg", scene.team.ann.user_id: "ann", scene.team.abe.user_id: "abe"}
    with db.begin() as s:
        events = s.execute(
            select(EventRow.id, EventRow.user_id, EventRow.kind)
            .where(EventRow.project_id == scene.team.project_id)
            .order_by(EventRow.id)
        ).all()
        assert [(names[user_id or 0], kind) for _, user_id, kind in events] == [(w, k) for w, k, _ in PLAN]
        for (event_id, _, _), (_, _, when) in zip(events, PLAN, strict=True):
            s.execute(update(EventRow).where(EventRow.id == event_id).values(at=when))
        # History changed behind the services' back: the KPI rollups are made again from it.
        kpi_rollups.rebuild(s, scene.team.project_id, idle_seconds=IDLE, now=NOW)


@pytest.fixture
def history(db_factory: sessionmaker[Session]) -> History:
    return _make_history(db_factory)


def _mine(db: sessionmaker[Session], actor: Actor, project_id: int) -> dict[str, Any]:
    with db.begin() as s:
        return kpi_reports.my_kpis(s, actor, project_id, idle_seconds=IDLE, now=NOW)


def _team(db: sessionmaker[Session], actor: Actor, project_id: int) -> dict[str, Any]:
    with db.begin() as s:
        return kpi_reports.project_kpis(s, actor, project_id, idle_seconds=IDLE, now=NOW)


def test_a_persons_kpis_from_real_edits(db_factory: sessionmaker[Session], history: History) -> None:
    team = history.scene.team
    mine = _mine(db_factory, team.ann, team.project_id)
    shapes = history.ann_shapes
    expected_totals = {
        "active_seconds": 360.0,
        "shapes": shapes,
        "shapes_per_hour": pytest.approx(shapes / 0.1),
        "seconds_per_shape": pytest.approx(360 / shapes),
        "shapes_per_euro": pytest.approx(shapes / (0.1 * COST)),
        "candidates_confirmed": 1,
        "tracks_drawn": 2,
        "stationary_tracks": 1,
        "nudges_shown": 1,
        "nudges_followed": 1,
        "tasks_accepted": 0,
        "tasks_rejected": 0,
        "acceptance_rate": None,  # not reviewed yet
    }
    assert mine["totals"] == expected_totals
    assert (mine["user"], mine["project_id"], mine["hourly_cost_eur"]) == ("ann", team.project_id, COST)
    # Peers are the annotators: ann on 12-14 at shapes/0.1 h and abe 5 shapes in 90 s (200/h); meg, the
    # manager (60 s, no shapes), is no peer.
    rate = shapes / 0.1
    assert mine["days"] == [
        {
            "day": "2026-12-14",
            **expected_totals,
            "team_median_shapes_per_hour": pytest.approx((rate + 200) / 2),
        }
    ]
    assert mine["tasks"] == [{"task_id": history.scene.task_id, "active_seconds": 360.0}]
    # Time on tracks of a class: the drawn car 50 + 40, the confirmed candidate 30, the stationary car
    # 0 (after 7 minutes away), the nudge about the drawn car 60 + 30; the van drawn by mistake 20 + 10.
    classes = {c["label"]: (c["active_seconds"], c["shapes"], c["tracks_drawn"]) for c in mine["classes"]}
    assert classes == {"Car": (210.0, shapes, 2), "Van": (30.0, 0, 0)}
    per_hour = mine["peers"]["shapes_per_hour"]
    assert per_hour == {
        "value": pytest.approx(rate),
        "median": pytest.approx((rate + 200) / 2),
        "top_quartile": pytest.approx(200 + 0.75 * (rate - 200)),
        "percentile": 75.0,
        "trend": None,  # nothing the week before
    }
    per_shape = mine["peers"]["seconds_per_shape"]
    assert per_shape["median"] == pytest.approx((360 / shapes + 18) / 2)
    assert per_shape["top_quartile"] == pytest.approx(360 / shapes + 0.25 * (18 - 360 / shapes))
    assert per_shape["percentile"] == 75.0
    assert mine["peers"]["shapes_per_euro"]["median"] == pytest.approx((rate + 200) / 2 / COST)
    abe = _mine(db_factory, team.abe, team.project_id)
    assert (abe["totals"]["active_seconds"], abe["totals"]["shapes"], abe["totals"]["tracks_drawn"]) == (
        90.0,
        5,
        1,
    )
    assert abe["peers"]["shapes_per_hour"]["percentile"] == 25.0


def test_the_team_view_names_and_anonymises(db_factory: sessionmaker[Session], history: History) -> None:
    team = history.scene.team
    shapes = history.ann_shapes
    view = _team(db_factory, team.manager, team.project_id)
    assert [p["user"] for p in view["people"]] == ["ann", "abe", "meg", "rita", "cora"]
    assert [p["active_seconds"] for p in view["people"]] == [360.0, 90.0, 60.0, 0.0, 0.0]
    assert [p["shapes"] for p in view["people"]] == [shapes, 5, 0, 0, 0]
    assert view["team"]["active_seconds"] == 510.0
    assert view["team"]["shapes"] == shapes + 5
    assert view["team"]["shapes_per_euro"] == pytest.approx((shapes + 5) / (510 / 3600 * COST))
    assert [d["day"] for d in view["days"]] == ["2026-12-14"]
    assert [(c["label"], c["active_seconds"], c["shapes"]) for c in view["classes"]] == [
        ("Car", 210.0 + 60.0, shapes + 5),  # abe drew his car in 60 s
        ("Van", 30.0, 0),
    ]
    assert view["seconds_by_action"] == {
        "task_submitted": 150.0,
        "track_created": 130.0,
        "task_created": 60.0,
        "nudge_shown": 60.0,
        "frames_absent_set": 40.0,
        "candidate_confirmed": 30.0,
        "nudge_followed": 30.0,
        "track_deleted": 10.0,
        "project_settings_changed": 0.0,
        "task_started": 0.0,
    }
    # A reviewer sees the numbers but not who is who, but for herself.
    rita = _team(db_factory, team.reviewer, team.project_id)
    assert [p["user"] for p in rita["people"]] == ["peer 1", "peer 2", "peer 3", "rita", "peer 4"]
    assert [p["shapes"] for p in rita["people"]] == [p["shapes"] for p in view["people"]]
    with db_factory.begin() as s:
        projects.update_project_settings(s, team.manager, team.project_id, show_peer_names=True)
    assert [p["user"] for p in _team(db_factory, team.coach, team.project_id)["people"]][:2] == ["ann", "abe"]
    csv_lines = kpi_reports.team_csv(view).splitlines()
    assert csv_lines[0].split(",")[:4] == ["user", "active_seconds", "shapes", "shapes_per_hour"]
    assert csv_lines[1].split(",")[:3] == ["ann", "360.0", str(shapes)]
    assert csv_lines[4].split(",")[:5] == ["rita", "0.0", "0", "", ""]  # undefined rates are empty


def test_only_submitted_or_accepted_work_counts(db_factory: sessionmaker[Session], history: History) -> None:
    team = history.scene.team
    with db_factory.begin() as s:
        tasks.review_task(s, team.reviewer, history.scene.task_id, True)
        tasks.review_task(s, team.reviewer, history.abe_task, False, "boxes too loose")
    assert _mine(db_factory, team.ann, team.project_id)["totals"]["shapes"] == history.ann_shapes
    abe = _mine(db_factory, team.abe, team.project_id)["totals"]
    assert (abe["shapes"], abe["shapes_per_hour"]) == (0, 0.0)
    ann = _mine(db_factory, team.ann, team.project_id)["totals"]
    assert (ann["tasks_accepted"], ann["tasks_rejected"], ann["acceptance_rate"]) == (1, 0, 1.0)
    assert (abe["tasks_accepted"], abe["tasks_rejected"], abe["acceptance_rate"]) == (0, 1, 0.0)
    with db_factory.begin() as s:
        tasks.start_task(s, team.abe, history.abe_task)
        tasks.submit_task(s, team.abe, history.abe_task)
    # Resubmitted today (its events keep their real time): counted again, on today's date.
    abe_again = _mine(db_factory, team.abe, team.project_id)
    assert abe_again["totals"]["shapes"] == 5
    with db_factory.begin() as s:
        resubmitted = s.scalars(
            select(EventRow.at).where(EventRow.task_id == history.abe_task).order_by(EventRow.id.desc())
        ).first()
    assert resubmitted is not None
    delivered = [(d["day"], d["shapes"]) for d in abe_again["days"] if d["shapes"]]
    assert delivered == [(resubmitted.date().isoformat(), 5)]
    with db_factory.begin() as s:
        tasks.review_task(s, team.reviewer, history.abe_task, True)
    reviewed = _mine(db_factory, team.abe, team.project_id)["totals"]
    assert (reviewed["tasks_accepted"], reviewed["tasks_rejected"], reviewed["acceptance_rate"]) == (
        1,
        1,
        0.5,
    )
    # The rollups made from the event log again agree with the ones kept along the way, but for the
    # milliseconds between abe's restart and resubmission: stamped by the real clock, days before the
    # NOW the rollups were read at, so only a rebuild rolls them up (a live reader's clock moves on).
    with db_factory.begin() as s:
        kpi_rollups.rebuild(s, team.project_id, idle_seconds=IDLE, now=NOW)
    rebuilt = _mine(db_factory, team.abe, team.project_id)["totals"]
    assert rebuilt == {name: pytest.approx(value, rel=1e-3) for name, value in reviewed.items()}


def test_who_may_see_what(db_factory: sessionmaker[Session], history: History) -> None:
    team = history.scene.team
    with pytest.raises(ForbiddenError):
        _team(db_factory, team.ann, team.project_id)
    with pytest.raises(NotFoundError):
        _team(db_factory, team.outsider, team.project_id)
    with pytest.raises(NotFoundError):
        _mine(db_factory, team.outsider, team.project_id)
    # An administrator who is no member sees the team by name, and their own (empty) numbers.
    assert _team(db_factory, team.admin, team.project_id)["people"][0]["user"] == "ann"
    admin = _mine(db_factory, team.admin, team.project_id)
    assert admin["totals"]["active_seconds"] == 0.0 and admin["peers"]["shapes_per_hour"]["value"] is None
    with pytest.raises(NotFoundError):
        _mine(db_factory, team.admin, team.project_id + 100)
