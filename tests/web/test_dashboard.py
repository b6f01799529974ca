"""The home page's live KPI dashboard in a real browser, against the real server of the demo.

Edits are made over HTTP in another session (the person's own API client) while the page stays open:
the numbers must change through the server-sent event stream, without a reload. The expected numbers
come from the tracks the edits produced (shapes: every frame of a confirmed track with a shape) and
from the JSON API, never from constants.
"""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx2
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import DEMO_PROJECT, WebApi, WebServer

Shot = Callable[[Page, str], Path]
LogIn = Callable[[Page, str], None]

TRACKING_SCENE = "KITTI tracking 0001"
CANDIDATE_LAYER = "candidates:auto:pointrcnn"
LIVE_TIMEOUT_MS = 3_000
"""The stream delivers within a second of the commit; the rest is slack for a loaded CI machine."""


def _project_id(client: WebApi) -> int:
    return int(next(p["id"] for p in client.call("GET", "/api/projects") if p["name"] == DEMO_PROJECT))


def _open_candidates(manager: WebApi, scene_id: int, count: int) -> list[dict[str, Any]]:
    """``count`` candidates nobody confirmed or rejected yet (other tests work on the same scene)."""
    listing = manager.call("GET", f"/api/scenes/{scene_id}/layers/{CANDIDATE_LAYER}/tracks")
    open_ones = [item["track"] for item in listing if item["track"]["status"] == "candidate"]
    assert len(open_ones) >= count, f"only {len(open_ones)} open candidates left"
    return open_ones[-count:]


def _work_and_submit(
    web_server: WebServer, name: str, layer: str, candidates: int
) -> tuple[dict[str, Any], int]:
    """A task of ``name`` in ``layer``: started, ``candidates`` confirmed, submitted, all over HTTP in the
    person's own session. Returns the submitted task and the shapes it delivers (counted from the layer)."""
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, name, layer=layer)
    person = web_server.api(name)
    started = person.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    for candidate in _open_candidates(web_server.api("manager"), scene_id, candidates):
        person.call(
            "POST",
            f"/api/tracks/{candidate['id']}/confirm",
            {"expected_version": candidate["version"], "task_id": task["id"]},
        )
    submitted = person.call(
        "POST", f"/api/tasks/{task['id']}/submit", {"expected_version": started["version"]}
    )
    assert submitted["state"] == "submitted"
    tracks = person.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")
    shapes = sum(len(item["shapes"]["frames"]) for item in tracks if item["track"]["status"] == "confirmed")
    assert shapes > 0
    return submitted, shapes


def _tile_value(page: Page, kpi: str) -> Locator:
    return page.locator(f".kpi-tile[data-kpi='{kpi}'] .value")


def test_the_dashboard_follows_an_edit_made_in_another_session_live(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    web_server.add_user("dash-live")
    person = web_server.api("dash-live")
    project_id = _project_id(person)
    log_in(page, "dash-live")
    dashboard = page.locator("#dashboard")
    expect(dashboard).to_have_attribute("data-loaded", "true")
    expect(dashboard).to_have_attribute("data-live", "live")
    expect(_tile_value(page, "shapes")).to_have_text("0")
    expect(page.locator("#team")).to_be_hidden()
    shot(page, "before")
    # Marks this document: a reload would lose it.
    page.evaluate("document.body.dataset.sameDocument = 'yes'")
    updates_before = int(dashboard.get_attribute("data-updates") or "0")

    _, shapes = _work_and_submit(web_server, "dash-live", layer="work-dash-live", candidates=2)

    expect(_tile_value(page, "shapes")).to_have_attribute("data-value", str(shapes), timeout=LIVE_TIMEOUT_MS)
    mine = person.call("GET", f"/api/kpis/me?project_id={project_id}")
    assert mine["totals"]["shapes"] == shapes
    assert mine["totals"]["active_seconds"] > 0
    # The other tiles come from the same live payload as the API's own answer.
    for kpi in ("active_seconds", "shapes_per_hour", "seconds_per_shape", "shapes_per_euro"):
        shown = float(_tile_value(page, kpi).get_attribute("data-value") or "nan")
        assert abs(shown - mine["totals"][kpi]) <= 0.05 * abs(mine["totals"][kpi]), kpi
    expect(_tile_value(page, "shapes")).to_have_text(f"{shapes:,}")
    expect(page.locator("#adoption")).to_contain_text("2 confirmed")
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"
    assert int(dashboard.get_attribute("data-updates") or "0") > updates_before
    expect(page.locator("#rate-chart canvas")).to_be_visible()
    shot(page, "after-edit")


def test_a_manager_sees_the_team_live_and_can_download_it(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    web_server.add_user("dash-team")
    manager = web_server.api("manager")
    project_id = _project_id(manager)
    _, first = _work_and_submit(web_server, "dash-team", layer="work-dash-team-1", candidates=1)

    log_in(page, "manager")
    team = page.locator("#team")
    expect(team).to_be_visible()
    expect(team).to_have_attribute("data-loaded", "true")
    row = page.locator("#team-body tr[data-user='dash-team']")
    expect(row).to_contain_text(f"{first:,}")
    expect(page.locator("#time-chart canvas")).to_be_visible()
    expect(page.locator("#team-euro-chart canvas")).to_be_visible()
    shot(page, "team")

    _, second = _work_and_submit(web_server, "dash-team", layer="work-dash-team-2", candidates=1)
    expect(row).to_contain_text(f"{first + second:,}", timeout=LIVE_TIMEOUT_MS + 1_000)
    people = manager.call("GET", f"/api/projects/{project_id}/kpis")["people"]
    assert next(p for p in people if p["user"] == "dash-team")["shapes"] == first + second
    row.scroll_into_view_if_needed()
    shot(page, "team-after-edit")

    # The hourly cost is saved as it changes; shapes per euro follow through the stream.
    total_per_euro = page.locator("#team-body tr.total td").nth(5)
    per_euro_before = total_per_euro.inner_text()
    try:
        page.fill("#hourly-cost", "50")
        page.press("#hourly-cost", "Enter")
        expect(total_per_euro).not_to_have_text(per_euro_before, timeout=LIVE_TIMEOUT_MS)
        project = manager.call("GET", f"/api/projects/{project_id}")
        assert project["hourly_cost_eur"] == 50.0
        team_kpis = manager.call("GET", f"/api/projects/{project_id}/kpis")["team"]
        assert team_kpis["shapes_per_euro"] * 50.0 == pytest.approx(team_kpis["shapes_per_hour"])
        shot(page, "hourly-cost-changed")
    finally:
        manager.call("PATCH", f"/api/projects/{project_id}", {"hourly_cost_eur": 25.0})

    csv_link = page.locator("#team-csv")
    expect(csv_link).to_have_attribute("href", f"/api/projects/{project_id}/kpis?format=csv")
    download = page.request.get(web_server.url + (csv_link.get_attribute("href") or ""))
    assert download.status == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "dash-team" in download.text()


def test_the_chart_library_is_served_read_only_from_its_npm_package(web_server: WebServer) -> None:
    with httpx2.Client(base_url=web_server.url) as client:
        module = client.get("/vendor/uplot/dist/uPlot.esm.js")
        assert module.status_code == 200
        assert "javascript" in module.headers["content-type"]
        assert module.headers["cache-control"] == "no-cache"
        assert "export { uPlot as default }" in module.text
        assert client.get("/vendor/uplot/dist/uPlot.min.css").headers["content-type"].startswith("text/css")
        assert client.post("/vendor/uplot/dist/uPlot.esm.js").status_code == 405
    # http.client sends the path as written (httpx would resolve the ".." itself): the mount must not
    # reach a sibling package or the repository.
    address = urlsplit(web_server.url)
    for escape in (
        "/vendor/uplot/../three/package.json",
        "/vendor/uplot/%2e%2e/three/package.json",
        "/vendor/uplot/../../package.json",
    ):
        connection = http.client.HTTPConnection(address.hostname or "127.0.0.1", address.port, timeout=10)
        try:
            connection.request("GET", escape)
            assert connection.getresponse().status == 404, escape
        finally:
            connection.close()
