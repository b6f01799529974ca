"""next_task: the order in which work is handed out, and concurrent claims, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from labelpilot.services import accounts, projects, tasks
from labelpilot.services.actors import Actor, Role
from labelpilot.services.errors import NotFoundError
from labelpilot.store.tables import EventRow, TaskRow
from tests.services.scene_rows import StoredScene, Team, insert_scene, make_team


@pytest.fixture
def world(db_factory: sessionmaker[Session]) -> tuple[Team, StoredScene]:
    with db_factory.begin() as s:
        team = make_team(s)
        stored = insert_scene(s, team.project_id, layers=())
    return team, stored


def test_next_task_order(db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]) -> None:
    """Own work in progress, then own rework, then own queued tasks by priority and age, then a claim."""
    team, stored = world
    plan = [("ann", 0), ("ann", 5), (None, 9), ("abe", 7), ("ann", 5), ("ann", 2), (None, 3)]
    with db_factory.begin() as s:
        created = [
            tasks.create_task(
                s, team.manager, team.project_id, stored.scene_id, "annotate", assignee=who, priority=p
            )
            for who, p in plan
        ]
        review = tasks.create_task(s, team.manager, team.project_id, stored.scene_id, "review", priority=99)
    # Expected order, derived from the plan: ann's tasks by priority (high first) then creation order,
    # then the unassigned annotate tasks the same way; abe's task and the review task never.
    own = sorted((i for i, (who, _) in enumerate(plan) if who == "ann"), key=lambda i: (-plan[i][1], i))
    free = sorted((i for i, (who, _) in enumerate(plan) if who is None), key=lambda i: (-plan[i][1], i))
    handed: list[int] = []
    with db_factory.begin() as s:
        while (task := tasks.next_task(s, team.ann, team.project_id)) is not None:
            # The task in progress comes back until it is submitted.
            started = tasks.start_task(s, team.ann, task.id)
            assert tasks.next_task(s, team.ann) == started
            tasks.submit_task(s, team.ann, task.id)
            handed.append(task.id)
    assert handed == [created[i].id for i in own + free]
    with db_factory.begin() as s:
        claims = list(s.scalars(select(EventRow).where(EventRow.kind == "task_assigned")))
        assert sorted(e.task_id or 0 for e in claims if e.payload.get("claimed")) == sorted(
            created[i].id for i in free
        )
        # Rework comes before queued work.
        first_done = handed[0]
        tasks.review_task(s, team.reviewer, first_done, False, "redo")
        extra = tasks.create_task(
            s, team.manager, team.project_id, stored.scene_id, "annotate", assignee="ann", priority=50
        )
        assert tasks.next_task(s, team.ann).id == first_done  # type: ignore[union-attr]
        tasks.start_task(s, team.ann, first_done)
        tasks.submit_task(s, team.ann, first_done)
        assert tasks.next_task(s, team.ann).id == extra.id  # type: ignore[union-attr]
        # A reviewer takes review tasks, a coach nothing; a non-member is told the project does not exist.
        assert tasks.next_task(s, team.reviewer).id == review.id  # type: ignore[union-attr]
        assert tasks.next_task(s, team.coach) is None
        with pytest.raises(NotFoundError):
            tasks.next_task(s, team.outsider, team.project_id)


RACE_TASKS = 24


def test_next_task_never_hands_out_a_task_twice(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    team, stored = world
    with db_factory.begin() as s:
        ids = {
            tasks.create_task(
                s, team.manager, team.project_id, stored.scene_id, "annotate", priority=i % 3
            ).id
            for i in range(RACE_TASKS)
        }
    got: dict[str, list[int]] = {"ann": [], "abe": []}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work(actor: Actor) -> None:
        try:
            barrier.wait()
            while True:
                with db_factory.begin() as s:
                    task = tasks.next_task(s, actor, team.project_id)
                    if task is None:
                        return
                    assert task.assignee == actor.name
                    tasks.start_task(s, actor, task.id)
                    tasks.submit_task(s, actor, task.id)
                got[actor.name].append(task.id)
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(actor,)) for actor in (team.ann, team.abe)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not set(got["ann"]) & set(got["abe"])
    assert sorted(got["ann"] + got["abe"]) == sorted(ids)
    with db_factory.begin() as s:
        claims = list(s.scalars(select(EventRow).where(EventRow.kind == "task_assigned")))
        assert len(claims) == RACE_TASKS
        owners = {row.id: row.assignee_id for row in s.scalars(select(TaskRow))}
    assert {owners[t] for t in got["ann"]} <= {team.ann.user_id}
    assert {owners[t] for t in got["abe"]} <= {team.abe.user_id}


def test_concurrent_claims_of_unassigned_tasks_never_collide(
    db_factory: sessionmaker[Session], world: tuple[Team, StoredScene]
) -> None:
    """Claim only (the tasks stay queued): the UPDATE's "still unassigned" condition alone decides."""
    team, stored = world
    per_thread = RACE_TASKS // 2
    with db_factory.begin() as s:
        ids = {
            tasks.create_task(s, team.manager, team.project_id, stored.scene_id, "annotate").id
            for _ in range(RACE_TASKS)
        }
        crews = [
            [accounts.actor_of(accounts.create_user(s, f"{crew}{i}", None)) for i in range(per_thread)]
            for crew in ("left", "right")
        ]
        for actor in crews[0] + crews[1]:
            projects.set_member(s, team.manager, team.project_id, actor.name, Role.ANNOTATOR)
    claimed: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(crews))

    def claim_all(crew: list[Actor]) -> None:
        try:
            barrier.wait()
            for actor in crew:
                with db_factory.begin() as s:
                    task = tasks.next_task(s, actor, team.project_id)
                assert task is not None and task.state == "queued"
                claimed.append((task.id, actor.user_id))
        except BaseException as error:  # reported in the main thread
            errors.append(error)

    threads = [threading.Thread(target=claim_all, args=(crew,)) for crew in crews]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(task_id for task_id, _ in claimed) == sorted(ids)
    with db_factory.begin() as s:
        owners = {row.id: row.assignee_id for row in s.scalars(select(TaskRow))}
    assert all(owners[task_id] == user_id for task_id, user_id in claimed)
