"""The bulk rejection in a real browser: ``alt+x`` rejects every candidate the guidance queue suggests
as a false positive, in one request and one undo step; ``ctrl+z`` takes them all back at once and
``ctrl+shift+z`` rejects them all again; a refused batch writes nothing. Everything is read back
from the server.

Each test has its own annotator and task (own work layer) on the demo's KITTI tracking scene. The
candidate layer is shared by every test on that scene, so each test ends with every candidate it
rejected pending again (by undoing, or through the API's batch reopen).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from playwright.sync_api import Page, Response, expect

from tests.web.conftest import ConsoleErrors, WebApi, WebServer
from tests.web.editor_support import (
    CANDIDATE_LAYER,
    GUIDANCE_TIMEOUT_MS,
    LogIn,
    Shot,
    open_own_task,
    saved,
    wait_for_queue,
)

USER = "bulk-reject-annotator"
REFUSED_USER = "bulk-refused-annotator"
MIN_SUGGESTED = 5


def _tracks(api: WebApi, scene_id: int) -> dict[str, dict[str, Any]]:
    """Every candidate of the shared candidate layer, as the server has it now, by id."""
    rows = api.call("GET", f"/api/scenes/{scene_id}/layers/{CANDIDATE_LAYER}/tracks")
    return {str(row["track"]["id"]): row["track"] for row in rows if not row["track"]["deleted"]}


def _statuses(api: WebApi, scene_id: int) -> dict[str, str]:
    """Every candidate of the shared candidate layer -> its status on the server."""
    return {track_id: str(track["status"]) for track_id, track in _tracks(api, scene_id).items()}


def _suggested(api: WebApi, scene_id: int, task_id: int) -> set[str]:
    """The track ids of the queue's reject_false_positive items, as the API answers them now."""
    queue = api.call("GET", f"/api/scenes/{scene_id}/guidance?task_id={task_id}")
    return {str(a["track_id"]) for a in queue if a["kind"] == "reject_false_positive"}


def _pending(statuses: dict[str, str]) -> set[str]:
    return {track_id for track_id, status in statuses.items() if status == "candidate"}


def _batch_call(decision: str) -> Callable[[Response], bool]:
    def matches(response: Response) -> bool:
        request = response.request
        return request.method == "POST" and request.url.endswith(f"/api/candidates/{decision}")

    return matches


def _named(response: Response) -> list[str]:
    """The candidates a batch request named, in its order."""
    body = response.request.post_data_json
    assert isinstance(body, dict)
    return [str(t["id"]) for t in body["tracks"]]


def _batch_ids(response: Response) -> set[str]:
    """The candidates a batch request named (each once), after checking it was answered for all."""
    assert response.status == 200, response.text()
    ids = _named(response)
    assert len(ids) == len(set(ids))
    answered = response.json()["tracks"]
    assert [str(r["id"]) for r in answered] == ids
    wanted = "rejected" if response.url.endswith("/reject") else "candidate"
    assert {r["status"] for r in answered} == {wanted}
    return set(ids)


def _candidate_rows(page: Page, ids: Iterable[str]) -> list[int]:
    """How many rows of the object list (every object listed) show each of these candidates."""
    return [
        page.locator(f"#object-list .list-item[data-kind=candidate][data-id='{i}']").count()
        for i in sorted(ids)
    ]


def _reopen_left_over(api: WebApi, scene_id: int, task_id: int, ids: set[str]) -> None:
    """Whatever of ``ids`` is still rejected is a candidate again, for the other tests."""
    tracks = _tracks(api, scene_id)
    left = [
        {"id": int(i), "expected_version": tracks[i]["version"]}
        for i in sorted(ids)
        if tracks[i]["status"] == "rejected"
    ]
    if left:
        api.call("POST", "/api/candidates/reopen", {"tracks": left, "task_id": task_id})


def test_alt_x_rejects_every_suggested_false_positive_in_one_undo_step(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    task = open_own_task(page, web_server, log_in, USER)
    scene_id, task_id = task["scene_id"], task["id"]
    api = web_server.api(USER)
    wait_for_queue(page)

    # What the queue suggests rejecting, read through the API as the task's annotator.
    suggested = _suggested(api, scene_id, task_id)
    assert len(suggested) > MIN_SUGGESTED, suggested
    before = _statuses(api, scene_id)
    assert all(before[i] == "candidate" for i in suggested)
    others = _pending(before) - suggested
    assert others, "the scene has candidates the queue does not suggest rejecting"

    # The panel offers them all at once, with the key.
    bulk = page.locator("[data-testid=reject-suggested]")
    expect(bulk).to_have_text(
        re.compile(rf"Reject {len(suggested)} suggested false positives\s*Alt\+X"),
        timeout=GUIDANCE_TIMEOUT_MS,
    )
    page.click("[data-testid=object-scope]")
    assert _candidate_rows(page, suggested) == [1] * len(suggested)
    shot(page, "suggested")

    try:
        # alt+x: one request naming every suggested candidate; the server has them all rejected.
        with page.expect_response(_batch_call("reject")) as rejected:
            page.keyboard.press("Alt+x")
        assert _batch_ids(rejected.value) == suggested
        saved(page)
        expect(
            page.locator("[data-testid=toast]").filter(
                has_text=f"{len(suggested)} suggested false positives rejected"
            )
        ).to_have_count(1)
        after = _statuses(api, scene_id)
        assert {i: after[i] for i in suggested} == dict.fromkeys(suggested, "rejected")
        assert _pending(after) == others, "only the suggested candidates are rejected"
        assert not _suggested(api, scene_id, task_id), "the queue still suggests rejecting some"
        assert _candidate_rows(page, suggested) == [0] * len(suggested)
        expect(bulk).to_have_count(0, timeout=GUIDANCE_TIMEOUT_MS)
        shot(page, "rejected")

        # ctrl+z once: one request reopens them all.
        with page.expect_response(_batch_call("reopen")) as reopened:
            page.keyboard.press("Control+z")
        assert _batch_ids(reopened.value) == suggested
        saved(page)
        undone = _statuses(api, scene_id)
        assert {i: undone[i] for i in suggested} == dict.fromkeys(suggested, "candidate")
        assert _pending(undone) == others | suggested
        assert _candidate_rows(page, suggested) == [1] * len(suggested)
        expect(bulk).to_have_text(re.compile(rf"Reject {len(suggested)} "), timeout=GUIDANCE_TIMEOUT_MS)
        shot(page, "undone")

        # ctrl+shift+z: all rejected again in one request; undo once more leaves them as found.
        with page.expect_response(_batch_call("reject")) as redone:
            page.keyboard.press("Control+Shift+z")
        assert _batch_ids(redone.value) == suggested
        saved(page)
        again = _statuses(api, scene_id)
        assert {i: again[i] for i in suggested} == dict.fromkeys(suggested, "rejected")
        assert _pending(again) == others
        with page.expect_response(_batch_call("reopen")):
            page.keyboard.press("Control+z")
        saved(page)
        assert _pending(_statuses(api, scene_id)) == others | suggested
    finally:
        _reopen_left_over(api, scene_id, task_id, suggested)


def test_a_refused_batch_writes_nothing_and_shows_the_server_state(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot, console_errors: ConsoleErrors
) -> None:
    console_errors.allow(r"status of 409")
    task = open_own_task(page, web_server, log_in, REFUSED_USER)
    scene_id, task_id = task["scene_id"], task["id"]
    api = web_server.api(REFUSED_USER)
    wait_for_queue(page)
    suggested = _suggested(api, scene_id, task_id)
    assert len(suggested) > MIN_SUGGESTED, suggested
    expect(page.locator("[data-testid=reject-suggested]")).to_be_visible(timeout=GUIDANCE_TIMEOUT_MS)
    page.click("[data-testid=object-scope]")

    # Behind the editor's back one of them is rejected: the editor's version of it is stale.
    stale = min(suggested, key=int)
    version = _tracks(api, scene_id)[stale]["version"]
    api.call("POST", f"/api/tracks/{stale}/reject", {"expected_version": version, "task_id": task_id})
    rest = suggested - {stale}
    try:
        with page.expect_response(_batch_call("reject")) as refused:
            page.keyboard.press("Alt+x")
        assert refused.value.status == 409
        assert set(_named(refused.value)) == suggested
        expect(page.locator("#save-state")).to_have_attribute("data-state", "error")

        # Nothing written; the editor shows the others pending again and the stale one as rejected.
        statuses = _statuses(api, scene_id)
        assert {i: statuses[i] for i in rest} == dict.fromkeys(rest, "candidate")
        assert statuses[stale] == "rejected"
        assert _candidate_rows(page, rest) == [1] * len(rest)
        assert _candidate_rows(page, [stale]) == [0]
        shot(page, "refused")

        # Pressed again on the refreshed queue: the rest are rejected (the stale one is no longer asked).
        expect(page.locator("[data-testid=reject-suggested]")).to_have_text(
            re.compile(rf"Reject {len(rest)} "), timeout=GUIDANCE_TIMEOUT_MS
        )
        with page.expect_response(_batch_call("reject")) as again:
            page.keyboard.press("Alt+x")
        assert _batch_ids(again.value) == rest
        saved(page)
        assert _pending(_statuses(api, scene_id)).isdisjoint(suggested)
    finally:
        _reopen_left_over(api, scene_id, task_id, suggested)
