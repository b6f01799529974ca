"""The home page's live KPI dashboard in a real browser, against the real server of the demo.

Edits and reviews are made over HTTP in other sessions (the person's own API client, the demo reviewer)
while the page stays open: the numbers must change through the server-sent event stream, without a
reload. The expected numbers come from the tracks the edits produced (shapes: every frame of a confirmed
track with a shape) and from the JSON API, never from constants.
"""

from __future__ import annotations

import csv
import http.client
import io
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


def _draw_and_submit(
    web_server: WebServer, name: str, layer: str, label: str, keyframes: tuple[int, ...]
) -> tuple[dict[str, Any], int]:
    """A task of ``name`` in ``layer`` with one drawn ``label`` track keyed at ``keyframes``, submitted
    over HTTP in the person's own session. Returns the submitted task and the shapes of the class in the
    layer (counted from the layer's tracks)."""
    scene_id = web_server.scene_id(TRACKING_SCENE)
    task = web_server.create_task(scene_id, name, layer=layer)
    person = web_server.api(name)
    started = person.call("POST", f"/api/tasks/{task['id']}/start", {"expected_version": task["version"]})
    poses = {str(frame): {"center": [8.0 + frame, 2.0, 0.8], "yaw": 0.1} for frame in keyframes}
    body = {"layer": layer, "label": label, "keyframes": poses, "task_id": task["id"]}
    person.call("POST", f"/api/scenes/{scene_id}/tracks", body, status=201)
    submitted = person.call(
        "POST", f"/api/tasks/{task['id']}/submit", {"expected_version": started["version"]}
    )
    assert submitted["state"] == "submitted"
    tracks = person.call("GET", f"/api/scenes/{scene_id}/layers/{layer}/tracks")
    shapes = sum(
        len(item["shapes"]["frames"])
        for item in tracks
        if item["track"]["status"] == "confirmed" and item["track"]["label"] == label
    )
    assert shapes >= len(keyframes)
    return submitted, shapes


def _accept(web_server: WebServer, task: dict[str, Any]) -> None:
    """The demo reviewer accepts a submitted task."""
    accepted = web_server.api("reviewer").call(
        "POST", f"/api/tasks/{task['id']}/review", {"accept": True, "expected_version": task["version"]}
    )
    assert accepted["state"] == "accepted"


def _class_cell(page: Page, card: str, label: str, kpi: str) -> Locator:
    return page.locator(f"#{card} tr[data-label='{label}'] td[data-kpi='{kpi}'] .value")


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

    people_csv = _download_csv(page, web_server, project_id, "people")
    assert "dash-team" in [row["user"] for row in people_csv]


def _download_csv(page: Page, web_server: WebServer, project_id: int, table: str) -> list[dict[str, str]]:
    """The rows of the team section's CSV link of ``table``, fetched in the page's session."""
    link = page.locator(f"#team-csv-{table}")
    expect(link).to_have_attribute("href", f"/api/projects/{project_id}/kpis?format=csv&table={table}")
    download = page.request.get(web_server.url + (link.get_attribute("href") or ""))
    assert download.status == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert f"kpis-{table}.csv" in download.headers["content-disposition"]
    return list(csv.DictReader(io.StringIO(download.text())))


def test_the_class_card_and_the_review_acceptance_follow_the_work_live(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    web_server.add_user("dash-class")
    person = web_server.api("dash-class")
    project_id = _project_id(person)
    log_in(page, "dash-class")
    expect(page.locator("#dashboard")).to_have_attribute("data-live", "live")
    expect(page.locator("#my-classes")).to_have_attribute("data-classes", "0")
    expect(page.locator("#my-classes")).to_contain_text("Your classes show here")
    review_row = page.locator("#adoption .adoption-row[data-kind='review']")
    expect(review_row).to_contain_text("not reviewed yet")
    page.evaluate("document.body.dataset.sameDocument = 'yes'")

    task, shapes = _draw_and_submit(web_server, "dash-class", "work-dash-class", "Car", keyframes=(0, 4))

    expect(_class_cell(page, "my-classes", "Car", "shapes")).to_have_text(
        f"{shapes:,}", timeout=LIVE_TIMEOUT_MS
    )
    mine = person.call("GET", f"/api/kpis/me?project_id={project_id}")
    car = next(row for row in mine["classes"] if row["label"] == "Car")
    assert car["shapes"] == shapes
    assert [row["label"] for row in mine["classes"] if row["shapes"] > 0] == ["Car"]
    expect(page.locator("#my-classes tbody tr")).to_have_count(
        len([r for r in mine["classes"] if r["shapes"] or r["active_seconds"]])
    )
    expect(review_row).to_contain_text("not reviewed yet")
    shot(page, "delivered")

    _accept(web_server, task)

    expect(review_row.locator(".share")).to_have_text("100 %", timeout=LIVE_TIMEOUT_MS)
    expect(review_row).to_contain_text("1 of 1 reviews")
    totals = person.call("GET", f"/api/kpis/me?project_id={project_id}")["totals"]
    assert (totals["tasks_accepted"], totals["tasks_rejected"], totals["acceptance_rate"]) == (1, 0, 1.0)
    assert page.evaluate("document.body.dataset.sameDocument") == "yes"
    page.locator("#my-classes").scroll_into_view_if_needed()
    shot(page, "accepted")


def _expect_team_classes(page: Page, team: dict[str, Any], must_have: set[str]) -> None:
    """The team's "By class" card lists every class with work, with the API's shape counts."""
    worked = [row for row in team["classes"] if row["shapes"] or row["active_seconds"]]
    assert must_have <= {row["label"] for row in worked if row["shapes"]}
    expect(page.locator("#team-classes tbody tr[data-label]")).to_have_count(len(worked))
    for row in worked:
        expect(_class_cell(page, "team-classes", row["label"], "shapes")).to_have_text(f"{row['shapes']:,}")


def test_the_team_shows_acceptance_and_classes_and_downloads_each_table(
    page: Page, web_server: WebServer, log_in: LogIn, shot: Shot
) -> None:
    web_server.add_user("dash-review")
    manager = web_server.api("manager")
    project_id = _project_id(manager)
    accepted_task, _ = _draw_and_submit(
        web_server, "dash-review", "work-dash-review-1", "Car", keyframes=(0, 2)
    )
    _accept(web_server, accepted_task)
    sent_back, _ = _draw_and_submit(
        web_server, "dash-review", "work-dash-review-2", "Pedestrian", keyframes=(1, 3)
    )

    log_in(page, "manager")
    expect(page.locator("#team")).to_have_attribute("data-loaded", "true")
    headers = page.locator("#team-head th")
    accepted_column = [h.strip() for h in headers.all_text_contents()].index("Accepted")
    cell = page.locator("#team-body tr[data-user='dash-review'] td").nth(accepted_column)
    expect(cell).to_have_text("100 %")
    expect(cell).to_have_attribute("title", "1 of 1 accepted (100 %)")
    # Both submitted tasks deliver their class.
    _expect_team_classes(page, manager.call("GET", f"/api/projects/{project_id}/kpis"), {"Car", "Pedestrian"})
    page.locator("#team-classes").scroll_into_view_if_needed()
    shot(page, "team-classes")

    # A rejection is a review decision too: the rate follows live.
    web_server.api("reviewer").call(
        "POST",
        f"/api/tasks/{sent_back['id']}/review",
        {"accept": False, "expected_version": sent_back["version"]},
    )
    expect(cell).to_have_text("50 %", timeout=LIVE_TIMEOUT_MS + 1_000)
    expect(cell).to_have_attribute("title", "1 of 2 accepted (50 %)")
    team = manager.call("GET", f"/api/projects/{project_id}/kpis")
    me = next(p for p in team["people"] if p["user"] == "dash-review")
    assert (me["tasks_accepted"], me["tasks_rejected"], me["acceptance_rate"]) == (1, 1, 0.5)
    _expect_team_classes(page, team, {"Car"})
    page.locator("#team-table").scroll_into_view_if_needed()
    shot(page, "team-acceptance")

    people = _download_csv(page, web_server, project_id, "people")
    row = next(r for r in people if r["user"] == "dash-review")
    assert (row["tasks_accepted"], row["tasks_rejected"], row["acceptance_rate"]) == ("1", "1", "0.5")
    days = _download_csv(page, web_server, project_id, "days")
    assert [r["day"] for r in days] == [d["day"] for d in team["days"]]
    classes = _download_csv(page, web_server, project_id, "classes")
    by_label = {r["label"]: r for r in classes}
    for row in team["classes"]:
        assert by_label[row["label"]]["shapes"] == str(row["shapes"])


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
