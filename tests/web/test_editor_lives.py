"""Track lives from the data in a real browser: the timeline shows a confirmed track's proposed life,
``a`` accepts it, and the API then has that life (and the queue stops offering it).

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the candidate it confirms
is left pending again at the end (undo), as the other tests on the shared candidate layer expect.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import WebApi, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
GUIDANCE_TIMEOUT_MS = 60_000
USER = "lives-annotator"


def _saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


def _copy_row(page: Page, candidate: str) -> Locator:
    return page.locator(f"#object-list .list-item[data-kind=track][data-key='candidate-{candidate}']")


def _guidance(api: WebApi, scene_id: int, task_id: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task_id}")
    return items


def _candidate_status(api: WebApi, scene_id: int, candidate: str) -> str:
    tracks = api.call("GET", f"/api/scenes/{scene_id}/layers/{CANDIDATE_LAYER}/tracks")
    return str(next(row["track"]["status"] for row in tracks if str(row["track"]["id"]) == candidate))


def test_the_a_key_accepts_the_proposed_life_shown_on_the_timeline(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    web_server.add_user(USER)
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, USER, layer=f"work-{USER}")
    api = web_server.api(USER)
    log_in(page, USER)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    expect(page.locator("[data-testid=guidance-queue] .list-item").first).to_be_visible(
        timeout=GUIDANCE_TIMEOUT_MS
    )

    # Confirm a moving candidate from the queue (n, then Enter), as an annotator does.
    page.click("[data-testid=filter-confirm_moving]")
    page.keyboard.press("n")
    focused = page.locator("[data-testid=guidance-queue] .list-item.selected")
    expect(focused).to_have_attribute("data-kind", "confirm_moving")
    candidate = focused.get_attribute("data-track-id")
    assert candidate is not None
    page.keyboard.press("Enter")
    copy = _copy_row(page, candidate)
    expect(copy).to_have_attribute("data-status", "confirmed")
    _saved(page)
    work_id = copy.get_attribute("data-id")
    assert work_id is not None and work_id.isdigit()

    # The queue proposes the confirmed track's life; the timeline outlines it.
    proposal = next(
        a
        for a in _guidance(api, scene_id, task["id"])
        if a["kind"] == "accept_life" and a["track_id"] == work_id
    )
    first, last = proposal["life"]
    timeline = page.locator("[data-testid=timeline-canvas]")
    expect(timeline).to_have_attribute(
        "data-proposed-lives", re.compile(rf"(^|,){work_id}:{first}-{last}(,|$)"), timeout=GUIDANCE_TIMEOUT_MS
    )
    shot(page, "proposed-life")

    # l accepts it: the API has that life, marked accepted, and the queue no longer offers it.
    copy.click()
    expect(copy).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("a")
    _saved(page)
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/work-{USER}/tracks")
    track = next(row["track"] for row in rows if str(row["track"]["id"]) == work_id)
    assert (track["first_frame"], track["last_frame"]) == (first, last)
    assert track["attributes"]["life_accepted"] is True
    remaining = [a for a in _guidance(api, scene_id, task["id"]) if a["track_id"] == work_id]
    assert all(a["kind"] != "accept_life" for a in remaining)
    expect(timeline).not_to_have_attribute(
        "data-proposed-lives", re.compile(rf"(^|,){work_id}:"), timeout=GUIDANCE_TIMEOUT_MS
    )
    shot(page, "life-accepted")

    # Undo both edits: the shared candidate is pending again, as the other tests expect it.
    page.keyboard.press("Control+z")
    _saved(page)
    page.keyboard.press("Control+z")
    _saved(page)
    expect(copy).to_have_count(0)
    assert _candidate_status(api, scene_id, candidate) == "candidate"
