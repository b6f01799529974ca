"""Browser tests: one real demo server for the session, Debian's chromium driven by Playwright.

Fixtures:
- ``web_server`` (session): ``labelpilot demo --no-serve`` in a temporary LABELPILOT_HOME, then
  ``labelpilot serve`` on a free port. ``.url``, ``.logins`` (demo name -> password), ``.add_user`` (a
  fresh user of the demo project, so a test owns its tasks) and ``.api(name)`` (a logged-in HTTP client).
- ``browser`` (session): headless /usr/bin/chromium.
- ``page``: a fresh context and page; any console error or uncaught exception fails the test, except the
  patterns a test allows with ``console_errors.allow(...)`` (e.g. the 401 of a wrong password).
- ``shot(page, name)``: a screenshot in test-artifacts/web/ (kept by CI as artefacts, git-ignored).
- ``log_in(page, name, password)``: through the login form, until the tasks page shows.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Error, Page, Playwright, sync_playwright

from labelpilot.services.codec import StoredKeyframe, track_from_rows
from labelpilot.services.track_edit_store import load_track
from labelpilot.settings import Settings
from labelpilot.store.db import make_engine, make_session_factory
from labelpilot.tracks import Track
from tests.servers import free_port, server_env

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "web"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--enable-unsafe-swiftshader"]
LABELPILOT = Path(sys.executable).parent / "labelpilot"
"""The CLI of the environment running the tests (the venv's)."""
DEMO_PROJECT = "demo"
STARTUP_SECONDS = 60.0
DEFAULT_TIMEOUT_MS = 10_000


class WebApi:
    """A logged-in HTTP client of the server (session cookie and CSRF token), for set-up and checks."""

    def __init__(self, url: str, name: str, password: str) -> None:
        self.client = httpx2.Client(base_url=url, timeout=30.0)
        answer = self.client.post("/api/auth/login", json={"name": name, "password": password})
        assert answer.status_code == 200, answer.text
        self.client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]

    def call(self, method: str, path: str, body: Any = None, *, status: int = 200) -> Any:
        """The parsed JSON answer (None when empty); asserts the status."""
        response = self.client.request(method, path, json=body)
        assert response.status_code == status, (
            f"{method} {path}: {response.status_code} {response.text[:300]}"
        )
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()


@dataclass
class WebServer:
    url: str
    """e.g. http://127.0.0.1:43121 (no trailing slash)"""
    logins: dict[str, str]
    """demo user name -> password (admin, manager, annotator, annotator2, reviewer, coach)"""
    home: Path
    _clients: list[WebApi] = field(default_factory=list)

    def add_user(self, name: str, role: str = "annotator") -> str:
        """A new member of the demo project with that role; returns the password. Names must be unique."""
        password = f"{name}-web-password"
        subprocess.run(
            [
                str(LABELPILOT),
                "users",
                "add",
                name,
                "--role",
                role,
                "--project",
                DEMO_PROJECT,
                "--password-stdin",
            ],
            input=password + "\n",
            env=server_env(self.home),
            check=True,
            capture_output=True,
            text=True,
        )
        self.logins[name] = password
        return password

    def api(self, name: str) -> WebApi:
        """An HTTP client logged in as ``name`` (a demo login or a user from add_user)."""
        client = WebApi(self.url, name, self.logins[name])
        self._clients.append(client)
        return client

    def scene_id(self, name_prefix: str) -> int:
        """The demo scene whose name starts with ``name_prefix`` (e.g. "KITTI tracking 0001")."""
        manager = self.api("manager")
        project = next(p for p in manager.call("GET", "/api/projects") if p["name"] == DEMO_PROJECT)
        scenes = manager.call("GET", f"/api/projects/{project['id']}/scenes")
        return int(next(s["id"] for s in scenes if s["name"].startswith(name_prefix)))

    def create_task(self, scene_id: int, assignee: str, layer: str) -> dict[str, Any]:
        """A queued annotate task of ``assignee`` in its own ``layer``, made by the demo manager."""
        manager = self.api("manager")
        project = next(p for p in manager.call("GET", "/api/projects") if p["name"] == DEMO_PROJECT)
        task: dict[str, Any] = manager.call(
            "POST",
            f"/api/projects/{project['id']}/tasks",
            {"scene_id": scene_id, "assignee": assignee, "layer": layer},
            status=201,
        )
        return task


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"labelpilot serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx2.get(f"{url}/api/health", timeout=2.0).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"labelpilot serve did not answer within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    home = tmp_path_factory.mktemp("web-home")
    env = server_env(home)
    subprocess.run([str(LABELPILOT), "demo", "--no-serve"], env=env, check=True, capture_output=True)
    logins = {row["name"]: row["password"] for row in json.loads((home / "demo-logins.json").read_text())}
    port = free_port()
    log = home / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(LABELPILOT), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = WebServer(f"http://127.0.0.1:{port}", logins, home)
    try:
        _wait_until_up(server.url, process, log)
        yield server
    finally:
        for client in server._clients:
            client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    assert CHROMIUM.is_file(), f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    launched = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    yield launched
    launched.close()


@dataclass
class ConsoleErrors:
    """Console errors and uncaught exceptions of a page; ``allow`` names the ones a test expects."""

    messages: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: str) -> None:
        """Expect errors matching this regular expression (searched in the text and the URL)."""
        self.allowed.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console error: {message.text} ({message.location.get('url', '')})")

    def on_page_error(self, error: Error) -> None:
        self.messages.append(f"uncaught {error.name}: {error.message}\n{error.stack or ''}")

    def unexpected(self) -> list[str]:
        return [m for m in self.messages if not any(p.search(m) for p in self.allowed)]


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    # Keep each phase's report on the test, so the page fixture can screenshot a failure.
    report = yield
    setattr(item, f"report_{call.when}", report)
    return report


def _artifact(request: pytest.FixtureRequest, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{request.node.name}-{name}")
    return ARTIFACTS / f"{safe}.png"


@pytest.fixture
def page(browser: Browser, console_errors: ConsoleErrors, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1600, "height": 1000})
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    fresh = context.new_page()
    fresh.on("console", console_errors.on_console)
    fresh.on("pageerror", console_errors.on_page_error)
    yield fresh
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        fresh.screenshot(path=_artifact(request, "failure"), full_page=True)
    context.close()
    unexpected = console_errors.unexpected()
    if unexpected:
        pytest.fail("the page logged errors:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``shot(page, "step")`` saves test-artifacts/web/<test>-<NN>-<step>.png and returns its path."""
    count = 0

    def take(target: Page, name: str) -> Path:
        nonlocal count
        count += 1
        path = _artifact(request, f"{count:02d}-{name}")
        target.screenshot(path=path)
        return path

    return take


@pytest.fixture
def log_in(web_server: WebServer) -> Callable[[Page, str], None]:
    """``log_in(page, name)``: the login form with the user's password, until "My tasks" shows."""

    def submit(target: Page, name: str) -> None:
        target.goto(f"{web_server.url}/login")
        target.fill("#name", name)
        target.fill("#password", web_server.logins[name])
        target.click("#login-button")
        target.wait_for_url(f"{web_server.url}/")
        target.wait_for_selector("#tasks-body[data-loaded]", state="attached")

    return submit


@pytest.fixture
def stored_track(web_server: WebServer) -> Iterator[Callable[[int], Track]]:
    """``stored_track(id)``: the track as the server's database holds it now (with its detections)."""
    engine = make_engine(Settings(home=web_server.home).resolved_database_url)
    factory = make_session_factory(engine)

    def read(track_id: int) -> Track:
        with factory() as session:
            loaded = load_track(session, track_id)
            keyframes = [StoredKeyframe(f, p) for f, p in sorted(loaded.keyframes.items())]
            return track_from_rows(loaded.row, keyframes)

    yield read
    engine.dispose()
