"""The guidance panel while the queue is computed, in a real browser: the queue of the KITTI tracking
scene takes the server a moment, and until its answer arrives the panel says it is computing the next
best actions, never "No suggestions." (which would tell a person there is nothing to do). The first
answer is held back here (the request waits in the browser) so that the moment can be seen."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from tests.web.conftest import WebServer
from tests.web.editor_support import LogIn, Shot, open_own_task, wait_for_queue

USER = "queue-loading-annotator"
GUIDANCE = re.compile(r"/api/scenes/\d+/guidance\?task_id=\d+$")


def test_the_queue_says_it_is_computing_until_the_server_answers(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # answered below, once the waiting panel has been seen

    page.route(GUIDANCE, hold)
    open_own_task(page, web_server, log_in, USER)
    empty = page.locator("[data-testid=guidance-queue] .empty")
    expect(empty).to_have_text("Computing the next best actions…")
    expect(page.locator("[data-testid=guidance-queue] .list-item")).to_have_count(0)
    assert held, "the editor asks for the queue when it opens"
    shot(page, "computing")

    for route in held:
        route.continue_()
    page.unroute(GUIDANCE)
    wait_for_queue(page)
    expect(empty).to_have_count(0)
    shot(page, "queue")
