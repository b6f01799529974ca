"""Tasks: the state machine, versions, events and roles, on SQLite and PostgreSQL (next_task: test_next_task)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import tasks
from labelpilot.services.actors import Actor
from labelpilot.services.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from labelpilot.store.tables import EventRow, LayerRow, TaskRow
from tests.services.scene_rows import StoredScene, Team, insert_scene, make_team


@pytest.fixture
def world(db_factory: sessionmaker[Session]) -> tuple[Team, StoredScene]:
    with db_factory.begin() as s:
        team = make_team(s)
        stored = insert_scene(s, team.project_id, layers=())
    return team, stored


def _events(session: Session, task_id: int) -> list[EventRow]:
    return list(session.scalars(select(EventRow).where(EventRow.task_id == task_id).order_by(EventRow.id)))


def test_every_legal_transition_bumps_the_version_and_records_an_event(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    team, stored = world
    with db_factory.begin() as s:
        task = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann"
        )
        # The task's layer exists from the start, so edits and confirmations have somewhere to go.
        assert s.scalar(select(LayerRow).where(LayerRow.scene_id == stored.scene_id, LayerRow.name == "work"))
    assert (task.state, task.assignee, task.version, task.layer) == ("queued", "ann", 1, "work")
    steps: list[tuple[Callable[[Session], tasks.TaskView], str, str]] = [
        (lambda s: tasks.start_task(s, team.ann, task.id), "in_progress", "task_started"),
        (lambda s: tasks.submit_task(s, team.ann, task.id), "submitted", "task_submitted"),
        (
            lambda s: tasks.review_task(s, team.reviewer, task.id, False, "box 3 too long"),
            "rejected",
            "task_rejected",
        ),
        (lambda s: tasks.start_task(s, team.ann, task.id), "in_progress", "task_started"),
        (lambda s: tasks.submit_task(s, team.ann, task.id), "submitted", "task_submitted"),
        (lambda s: tasks.review_task(s, team.manager, task.id, True, "good"), "accepted", "task_accepted"),
    ]
    previous = task
    for step, state, _kind in steps:
        with db_factory.begin() as s:
            now = step(s)
        assert now.state == state
        assert now.version == previous.version + 1
        previous = now
    with db_factory.begin() as s:
        events = _events(s, task.id)
        assert [e.kind for e in events] == ["task_created"] + [kind for _, _, kind in steps]
        assert events[0].payload["before"] is None and events[0].payload["after"]["state"] == "queued"
        states = ["queued"] + [state for _, state, _ in steps]
        for event, before, after in zip(events[1:], states[:-1], states[1:], strict=True):
            assert event.payload["before"]["state"] == before
            assert event.payload["after"]["state"] == after
            assert event.payload["after"]["version"] == event.payload["before"]["version"] + 1
        assert events[3].payload["comment"] == "box 3 too long"
        assert events[4].payload["rework"] is True and events[1].payload["rework"] is False
        assert {e.user_id for e in events[1:]} == {
            team.ann.user_id,
            team.reviewer.user_id,
            team.manager.user_id,
        }
        assert tasks.get_task(s, team.ann, task.id).state == "accepted"


@pytest.mark.parametrize(
    ("setup", "illegal", "named_state"),
    [
        ([], "submit", "queued"),
        ([], "review", "queued"),
        (["start"], "start", "in_progress"),
        (["start"], "review", "in_progress"),
        (["start", "submit"], "submit", "submitted"),
        (["start", "submit"], "start", "submitted"),
        (["start", "submit"], "assign", "submitted"),
        (["start", "submit", "accept"], "start", "accepted"),
        (["start", "submit", "accept"], "review", "accepted"),
        (["start", "submit", "accept"], "assign", "accepted"),
        (["start", "submit", "reject"], "submit", "rejected"),
    ],
)
def test_illegal_transitions_are_refused_naming_the_state(
    db_factory: sessionmaker[Session],
    world: tuple[Team, StoredScene],
    setup: list[str],
    illegal: str,
    named_state: str,
) -> None:
    team, stored = world
    actions: dict[str, Callable[[Session, int], Any]] = {
        "start": lambda s, t: tasks.start_task(s, team.ann, t),
        "submit": lambda s, t: tasks.submit_task(s, team.ann, t),
        "review": lambda s, t: tasks.review_task(s, team.reviewer, t, True),
        "accept": lambda s, t: tasks.review_task(s, team.reviewer, t, True),
        "reject": lambda s, t: tasks.review_task(s, team.reviewer, t, False),
        "assign": lambda s, t: tasks.assign_task(s, team.manager, t, "abe"),
    }
    with db_factory.begin() as s:
        task_id = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann"
        ).id
    for name in setup:
        with db_factory.begin() as s:
            actions[name](s, task_id)
    with db_factory.begin() as s:
        before = tasks.get_task(s, team.manager, task_id)
        event_count = len(_events(s, task_id))
        with pytest.raises(ConflictError) as refused:
            actions[illegal](s, task_id)
        assert f"is {named_state}" in refused.value.message
        assert refused.value.current["state"] == named_state
    with db_factory.begin() as s:
        assert tasks.get_task(s, team.manager, task_id) == before
        assert len(_events(s, task_id)) == event_count


def test_stale_task_version_is_refused(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    team, stored = world
    with db_factory.begin() as s:
        task = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann"
        )
        tasks.assign_task(s, team.manager, task.id, "abe", expected_version=task.version)
        with pytest.raises(ConflictError) as stale:
            tasks.assign_task(s, team.manager, task.id, "ann", expected_version=task.version)
        assert stale.value.current["assignee"] == "abe" and stale.value.current["version"] == task.version + 1


def test_assignment_and_unassignment(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    team, stored = world
    with db_factory.begin() as s:
        task = tasks.create_task(s, team.manager, team.project_id, stored.scene_id, "annotate")
        assert task.assignee is None
        assert tasks.assign_task(s, team.manager, task.id, "ann").assignee == "ann"
        tasks.start_task(s, team.ann, task.id)
        moved = tasks.assign_task(s, team.manager, task.id, "abe")
        assert (moved.assignee, moved.state) == ("abe", "in_progress")
        back = tasks.assign_task(s, team.manager, task.id, None)
        assert (back.assignee, back.state) == (None, "queued")
        events = [e for e in _events(s, task.id) if e.kind == "task_assigned"]
        assert [(e.payload["before"]["assignee_id"], e.payload["after"]["assignee_id"]) for e in events] == [
            (None, team.ann.user_id),
            (team.ann.user_id, team.abe.user_id),
            (team.abe.user_id, None),
        ]
        assert events[-1].payload["after"]["state"] == "queued"


def test_roles_are_enforced(db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]) -> None:
    team, stored = world
    with db_factory.begin() as s:
        for not_manager in (team.ann, team.reviewer, team.coach):
            with pytest.raises(ForbiddenError):
                tasks.create_task(s, not_manager, team.project_id, stored.scene_id, "annotate")
        with pytest.raises(NotFoundError):
            tasks.create_task(s, team.outsider, team.project_id, stored.scene_id, "annotate")
        mine = tasks.create_task(s, team.admin, team.project_id, stored.scene_id, "annotate", assignee="ann")
        theirs = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "practice", assignee="abe"
        )
        with pytest.raises(ForbiddenError):
            tasks.assign_task(s, team.ann, mine.id, "ann")
        with pytest.raises(ForbiddenError):
            tasks.start_task(s, team.ann, theirs.id)
        with pytest.raises(ForbiddenError):
            tasks.start_task(s, team.manager, mine.id)  # only the assignee starts a task
        tasks.start_task(s, team.ann, mine.id)
        tasks.submit_task(s, team.ann, mine.id)
        for not_reviewer in (team.ann, team.abe, team.coach):
            with pytest.raises(ForbiddenError):
                tasks.review_task(s, not_reviewer, mine.id, True)
        # Annotators see only their own tasks; staff see all of them.
        with pytest.raises(ForbiddenError):
            tasks.get_task(s, team.ann, theirs.id)
        assert [t.id for t in tasks.list_tasks(s, team.ann, team.project_id)] == [mine.id]
        assert {t.id for t in tasks.list_tasks(s, team.coach, team.project_id)} == {mine.id, theirs.id}
        assert [t.id for t in tasks.list_tasks(s, team.manager, team.project_id, mine=True)] == []
        assert [t.id for t in tasks.list_tasks(s, team.reviewer, team.project_id, state="submitted")] == [
            mine.id
        ]
        with pytest.raises(NotFoundError):
            tasks.list_tasks(s, team.outsider, team.project_id)
        assert tasks.review_task(s, team.reviewer, mine.id, True).state == "accepted"


def test_a_reviewer_does_not_review_their_own_work(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    team, stored = world
    with db_factory.begin() as s:
        task = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="rita"
        )
        tasks.start_task(s, team.reviewer, task.id)
        tasks.submit_task(s, team.reviewer, task.id)
        with pytest.raises(ForbiddenError):
            tasks.review_task(s, team.reviewer, task.id, True)
        assert tasks.review_task(s, team.manager, task.id, True).state == "accepted"


def test_bad_task_input(db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]) -> None:
    team, stored = world
    with db_factory.begin() as s:
        cases: list[tuple[dict[str, Any], str]] = [
            ({"kind": "paint"}, "kind"),
            ({"layer": "ground_truth"}, "layer"),
            ({"layer": "auto:pointrcnn"}, "layer"),
            ({"layer": " "}, "layer"),
            ({"assignee": "otto"}, "assignee"),
            ({"priority": 1.5}, "priority"),
        ]
        for change, field in cases:
            arguments: dict[str, Any] = {"kind": "annotate", **change}
            with pytest.raises(InvalidError) as bad:
                tasks.create_task(s, team.manager, team.project_id, stored.scene_id, **arguments)
            assert bad.value.field == field
        with pytest.raises(NotFoundError):
            tasks.create_task(s, team.manager, team.project_id, stored.scene_id + 1000, "annotate")
        with pytest.raises(NotFoundError):
            tasks.assign_task(s, team.manager, 424242, "ann")
        with pytest.raises(InvalidError):
            tasks.list_tasks(s, team.manager, team.project_id, state="done")
        assert s.scalar(select(TaskRow.id)) is None


def review_at_once(
    db_factory: sessionmaker[Session], task_id: int, verdicts: list[tuple[Actor, bool]]
) -> dict[str, str]:
    """Each reviewer reviews the task in their own thread and session at the same moment."""
    outcomes: dict[str, str] = {}
    barrier = threading.Barrier(len(verdicts))

    def review(actor: Actor, accept: bool) -> None:
        barrier.wait()
        try:
            with db_factory.begin() as s:
                outcomes[actor.name] = tasks.review_task(s, actor, task_id, accept).state
        except ConflictError as conflict:
            outcomes[actor.name] = f"refused: {conflict.current.get('state')}"

    threads = [threading.Thread(target=review, args=verdict) for verdict in verdicts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_concurrent_reviews_of_one_task_exactly_one_wins(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    team, stored = world
    verdicts = [(team.reviewer, True), (team.manager, False)]
    for _ in range(6):
        with db_factory.begin() as s:
            task = tasks.create_task(
                s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann"
            )
            tasks.start_task(s, team.ann, task.id)
            tasks.submit_task(s, team.ann, task.id)
        outcomes = review_at_once(db_factory, task.id, verdicts)
        won = [name for name, outcome in outcomes.items() if not outcome.startswith("refused")]
        assert len(won) == 1 and len(outcomes) == 2, outcomes
        final = "accepted" if {a.name: v for a, v in verdicts}[won[0]] else "rejected"
        loser = next(name for name in outcomes if name != won[0])
        assert outcomes[won[0]] == final and outcomes[loser] == f"refused: {final}"
        with db_factory.begin() as s:
            assert tasks.get_task(s, team.manager, task.id).state == final
            kinds = [e.kind for e in _events(s, task.id)]
        assert kinds.count("task_accepted") + kinds.count("task_rejected") == 1
