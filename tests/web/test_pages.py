"""The pages around the editor in a real browser: log in, my tasks, start the next task, log out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx2
from playwright.sync_api import Page, expect

from tests.web.conftest import ConsoleErrors, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]


def test_a_wrong_password_shows_an_error_and_stays_logged_out(
    page: Page, web_server: WebServer, console_errors: ConsoleErrors, shot: Shot
) -> None:
    # The browser logs the refused login (401) as a failed request: that one is expected.
    console_errors.allow(r"status of 401")
    page.goto(f"{web_server.url}/")
    assert page.url == f"{web_server.url}/login"
    page.fill("#name", "annotator")
    page.fill("#password", web_server.logins["annotator"] + "-wrong")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    shot(page, "wrong-password")
    assert page.url == f"{web_server.url}/login"
    assert page.request.get(f"{web_server.url}/api/auth/me").status == 401


def test_an_annotator_starts_the_next_task_then_logs_out(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    # A user of its own, so that no other test's tasks are in this one's queue.
    web_server.add_user("pages-ann")
    scene_id = web_server.scene_id("KITTI odometry 00")
    task = web_server.create_task(scene_id, "pages-ann", layer="work-pages-ann")
    log_in(page, "pages-ann")
    row = page.locator(f"#tasks-body tr[data-task-id='{task['id']}']")
    expect(row).to_have_attribute("data-state", "queued")
    expect(row).to_contain_text("KITTI odometry 00")
    expect(page.locator("#user-name")).to_have_text("pages-ann")
    shot(page, "my-tasks")

    page.click("#start-next")
    page.wait_for_url(f"{web_server.url}/editor?task={task['id']}")
    for shell_part in (
        "#topbar",
        "#scene-view",
        "#camera-panel",
        "#object-list",
        "#guidance-panel",
        "#timeline",
    ):
        expect(page.locator(shell_part)).to_be_attached()
    shot(page, "editor")
    started = web_server.api("pages-ann").call("GET", f"/api/tasks/{task['id']}")
    assert started["state"] == "in_progress"
    assert started["assignee"] == "pages-ann"

    page.goto(f"{web_server.url}/")
    page.wait_for_selector("#tasks-body[data-loaded]", state="attached")
    expect(row).to_have_attribute("data-state", "in_progress")
    expect(row.get_by_role("link", name="Open")).to_have_attribute("href", f"/editor?task={task['id']}")
    # Nothing else is waiting: "Start next task" brings back the task in progress.
    page.click("#start-next")
    page.wait_for_url(f"{web_server.url}/editor?task={task['id']}")

    page.goto(f"{web_server.url}/")
    page.click("#logout")
    page.wait_for_url(f"{web_server.url}/login")
    shot(page, "logged-out")
    assert page.request.get(f"{web_server.url}/api/auth/me").status == 401
    page.goto(f"{web_server.url}/")
    assert page.url == f"{web_server.url}/login"


def test_a_logged_out_editor_link_comes_back_after_login(page: Page, web_server: WebServer) -> None:
    web_server.add_user("pages-link")
    scene_id = web_server.scene_id("KITTI tracking 0001")
    task = web_server.create_task(scene_id, "pages-link", layer="work-pages-link")
    web_server.api("pages-link").call("POST", f"/api/tasks/{task['id']}/start", {})
    editor = f"/editor?task={task['id']}"
    page.goto(web_server.url + editor)
    assert page.url == f"{web_server.url}/login?next={quote(editor, safe='')}"
    page.fill("#name", "pages-link")
    page.fill("#password", web_server.logins["pages-link"])
    page.click("#login-button")
    page.wait_for_url(web_server.url + editor)


def test_a_login_never_sends_the_browser_off_the_site(page: Page, web_server: WebServer) -> None:
    page.goto(f"{web_server.url}/login?next=//example.org/phish")
    page.fill("#name", "reviewer")
    page.fill("#password", web_server.logins["reviewer"])
    page.click("#login-button")
    page.wait_for_url(f"{web_server.url}/")


def test_static_files_are_read_only_and_stay_in_their_folders(web_server: WebServer) -> None:
    with httpx2.Client(base_url=web_server.url) as client:
        three = client.get("/vendor/three/build/three.module.js")
        assert three.status_code == 200
        assert "javascript" in three.headers["content-type"]
        assert three.headers["cache-control"] == "no-cache"
        css = client.get("/static/css/app.css")
        assert css.status_code == 200 and ".list-item.selected" in css.text
        assert client.post("/static/css/app.css").status_code == 405
        # Raw "..": the path must not leave the mounted folders (the repo's files are one level up).
        for escape in ("/static/../pages.py", "/static/%2e%2e/pages.py", "/vendor/three/../../package.json"):
            request = client.build_request("GET", escape)
            request.url = request.url.copy_with(raw_path=escape.encode())
            assert client.send(request).status_code == 404, escape
