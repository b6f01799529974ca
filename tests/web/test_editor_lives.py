"""Track lives from the data in a real browser: the timeline shows a confirmed track's proposed life,
``a`` accepts it, and the API then has that life (and the queue stops offering it).

Own annotator and task (own work layer) on the demo's KITTI tracking scene; the candidate it confirms
is left pending again at the end (undo), as the other tests on the shared candidate layer expect.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import WebServer
from tests.web.editor_support import (
    GUIDANCE_TIMEOUT_MS,
    LogIn,
    Shot,
    candidate_status,
    copy_row,
    expect_proposed_life,
    guidance,
    open_and_confirm,
    saved,
)

USER = "lives-annotator"


def test_the_a_key_accepts_the_proposed_life_shown_on_the_timeline(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # Confirm a moving candidate from the queue (n, then Enter), as an annotator does.
    task, candidate, work_id = open_and_confirm(page, web_server, log_in, USER)
    scene_id = task["scene_id"]
    api = web_server.api(USER)
    copy = copy_row(page, candidate)

    # The queue proposes the confirmed track's life; the timeline outlines it.
    proposal = next(
        a
        for a in guidance(api, scene_id, task["id"])
        if a["kind"] == "accept_life" and a["track_id"] == work_id
    )
    first, last = proposal["life"]
    timeline = expect_proposed_life(page, work_id, first, last)
    shot(page, "proposed-life")

    # a accepts it: the API has that life, marked accepted, and the queue no longer offers it.
    copy.click()
    expect(copy).to_have_class(re.compile(r"\bselected\b"))
    page.keyboard.press("a")
    saved(page)
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/work-{USER}/tracks")
    track = next(row["track"] for row in rows if str(row["track"]["id"]) == work_id)
    assert (track["first_frame"], track["last_frame"]) == (first, last)
    assert track["attributes"]["life_accepted"] is True
    remaining = [a for a in guidance(api, scene_id, task["id"]) if a["track_id"] == work_id]
    assert all(a["kind"] != "accept_life" for a in remaining)
    expect(timeline).not_to_have_attribute(
        "data-proposed-lives", re.compile(rf"(^|,){work_id}:"), timeout=GUIDANCE_TIMEOUT_MS
    )
    shot(page, "life-accepted")

    # Undo both edits: the shared candidate is pending again, as the other tests expect it.
    page.keyboard.press("Control+z")
    saved(page)
    page.keyboard.press("Control+z")
    saved(page)
    expect(copy).to_have_count(0)
    assert candidate_status(api, scene_id, candidate) == "candidate"
