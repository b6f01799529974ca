"""What the editor's browser tests share: a person's own task opened in the editor on the demo's KITTI
tracking scene, a candidate confirmed from the queue, and reading back what the server stored."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from playwright.sync_api import Locator, Page, Request, expect

from tests.web.conftest import WebApi, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
GUIDANCE_TIMEOUT_MS = 60_000


def guidance(api: WebApi, scene_id: int, task_id: int) -> list[dict[str, Any]]:
    """The task's guidance queue as the API serves it."""
    items: list[dict[str, Any]] = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task_id}")
    return items


def expect_proposed_life(page: Page, track_id: str, first: int, last: int) -> Locator:
    """Wait until the timeline outlines the track's proposed life ``first``..``last``; the timeline."""
    timeline = page.locator("[data-testid=timeline-canvas]")
    expect(timeline).to_have_attribute(
        "data-proposed-lives",
        re.compile(rf"(^|,){track_id}:{first}-{last}(,|$)"),
        timeout=GUIDANCE_TIMEOUT_MS,
    )
    return timeline


def frame_on_screen(page: Page) -> int:
    text = page.locator("#frame-counter").inner_text()
    match = re.fullmatch(r"frame (\d+) / \d+", text.strip())
    assert match, text
    return int(match.group(1))


def expect_frame(page: Page, frame: int) -> None:
    expect(page.locator("#frame-counter")).to_have_text(re.compile(rf"frame {frame} / "))


def saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_attribute("data-state", "saved")


def period_s(api: WebApi, scene_id: int) -> float:
    stamps = [f["timestamp_us"] for f in api.call("GET", f"/api/scenes/{scene_id}/frames")]
    return float(np.median(np.diff(np.asarray(stamps, dtype=np.float64)))) / 1e6


def layer_track(api: WebApi, scene_id: int, layer: str, track_id: str) -> dict[str, Any]:
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")
    return dict(next(row["track"] for row in rows if str(row["track"]["id"]) == track_id))


def candidate_status(api: WebApi, scene_id: int, candidate: str) -> str:
    return str(layer_track(api, scene_id, CANDIDATE_LAYER, candidate)["status"])


def open_and_confirm(
    page: Page, web_server: WebServer, log_in: LogIn, user: str, *, longest: bool = False
) -> tuple[dict[str, Any], str, str]:
    """A fresh annotator's own task open in the editor and a moving candidate of the queue confirmed
    (Enter) with its copy selected: the first one (``n``), or with ``longest`` the one of the listed
    items that lives longest (a click on it). Answers (task, candidate id, copy id)."""
    task = open_own_task(page, web_server, log_in, user)
    wait_for_queue(page)
    page.click("[data-testid=filter-confirm_moving]")
    items = page.locator("[data-testid=guidance-queue] .list-item[data-kind=confirm_moving]")
    if longest:
        listed = [str(i) for i in items.evaluate_all("items => items.map(i => i.dataset.trackId)")]
        rows = web_server.api(user).call(
            "GET", f"/api/scenes/{task['scene_id']}/layers/{CANDIDATE_LAYER}/tracks"
        )
        lives = {str(r["track"]["id"]): r["track"]["last_frame"] - r["track"]["first_frame"] for r in rows}
        chosen = max(listed, key=lambda i: (lives[i], i))
        items.and_(page.locator(f"[data-track-id='{chosen}']")).locator(".label").click()
    else:
        page.keyboard.press("n")
    focused = page.locator("[data-testid=guidance-queue] .list-item.selected")
    expect(focused).to_have_attribute("data-kind", "confirm_moving")
    candidate = focused.get_attribute("data-track-id")
    assert candidate is not None
    return task, candidate, confirm_focused(page, candidate)


def confirm_focused(page: Page, candidate: str) -> str:
    """Enter on ``candidate``, the item in focus: its copy is confirmed, saved and selected; answers
    the copy's id."""
    page.keyboard.press("Enter")
    copy = copy_row(page, candidate)
    expect(copy).to_have_attribute("data-status", "confirmed")
    saved(page)
    copy_id = copy.get_attribute("data-id")
    assert copy_id is not None and copy_id.isdigit()
    expect(copy).to_have_class(re.compile(r"\bselected\b"))
    return copy_id


def copy_row(page: Page, candidate: str) -> Locator:
    return page.locator(f"#object-list .list-item[data-kind=track][data-key='candidate-{candidate}']")


def is_next_check(track_id: str) -> Callable[[Request], bool]:
    return lambda r: r.method == "POST" and r.url.endswith(f"/api/tracks/{track_id}/next-check")


def undo_all(page: Page, api: WebApi, scene_id: int, candidate: str, steps: int) -> None:
    for _ in range(steps):
        page.keyboard.press("Control+z")
        saved(page)
    expect(copy_row(page, candidate)).to_have_count(0)
    assert candidate_status(api, scene_id, candidate) == "candidate"


def open_own_task(page: Page, web_server: WebServer, log_in: LogIn, user: str) -> dict[str, Any]:
    """A new annotator ``user`` with their own task (own work layer) on the KITTI tracking scene, open in
    the editor until it is ready; answers the task."""
    web_server.add_user(user)
    task: dict[str, Any] = web_server.create_task(
        web_server.scene_id(TRACKING_SCENE), user, layer=f"work-{user}"
    )
    log_in(page, user)
    page.goto(f"{web_server.url}/editor?task={task['id']}")
    expect(page.locator("body")).to_have_attribute("data-editor-ready", "true")
    return task


def wait_for_queue(page: Page) -> None:
    """Until the guidance queue shows its first item (computed on the server after the editor opens)."""
    expect(page.locator("[data-testid=guidance-queue] .list-item").first).to_be_visible(
        timeout=GUIDANCE_TIMEOUT_MS
    )
