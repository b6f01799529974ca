"""The browser pages (login, the home dashboard with my tasks, the editor) and the static files they load.

Pages are static HTML shells; the ES modules they load talk to the JSON API. Whether a visitor is
logged in is decided here with the API's own rule (session cookie or bearer token), so that a logged-out
visitor is sent to the login page before any script runs. The API's authorization is untouched: the
shells hold no data, every /api route still authenticates on its own.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from labelpilot.api.deps import SessionDep, current_actor
from labelpilot.services.errors import UnauthenticatedError
from labelpilot.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static"
VENDOR_URL = "/vendor"
VENDOR_PACKAGES = {"three": "build/three.module.js", "uplot": "dist/uPlot.esm.js"}
"""The npm packages the pages load (from ``settings.web_vendor_dir``), each with a file that proves it is installed."""
LOGIN_URL = "/login"
NO_CACHE = {"Cache-Control": "no-cache"}
"""Browsers revalidate pages and modules (an ETag round trip), so a new build is never half-loaded."""

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


class RevalidatedStaticFiles(StaticFiles):
    """Starlette's static files (GET and HEAD only, paths kept inside the folder) with NO_CACHE."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(NO_CACHE)
        return response


def _page(name: str) -> FileResponse:
    return FileResponse(STATIC_DIR / name, media_type="text/html", headers=NO_CACHE)


def _logged_in(request: Request, session: Session) -> bool:
    try:
        current_actor(request, session)
    except UnauthenticatedError:
        return False
    return True


def _to_login(next_url: str) -> RedirectResponse:
    query = urlencode({"next": next_url}) if next_url != "/" else ""
    return RedirectResponse(f"{LOGIN_URL}?{query}" if query else LOGIN_URL, status_code=303)


@router.get(LOGIN_URL)
def login_page() -> FileResponse:
    return _page("login.html")


@router.get("/", response_model=None)
def tasks_page(request: Request, session: SessionDep) -> Response:
    """The home page (dashboard and my tasks), or the login page for a visitor who is not logged in."""
    return _page("tasks.html") if _logged_in(request, session) else _to_login("/")


@router.get("/editor", response_model=None)
def editor_page(request: Request, session: SessionDep) -> Response:
    """The editor shell; the task comes from ``?task=ID`` and is loaded (and authorised) by the API."""
    if _logged_in(request, session):
        return _page("editor.html")
    task = request.query_params.get("task", "")
    # Only a plain task number goes back into the URL: nothing else of the query is echoed.
    return _to_login(f"/editor?task={task}" if task.isdigit() else "/editor")


def install_web(app: FastAPI, settings: Settings) -> None:
    """Add the pages, our own static files, and each vendor package (``/vendor/<name>/``) from node_modules."""
    app.include_router(router)
    app.mount(STATIC_URL, RevalidatedStaticFiles(directory=STATIC_DIR), name="static")
    for package, entry in VENDOR_PACKAGES.items():
        folder = settings.web_vendor_dir / package
        if not (folder / entry).is_file():
            # The API works without it; only the pages that load it break, so say so rather than refuse to start.
            log.warning(
                "%s is not installed under %s (run `make install`); pages that use it cannot load",
                package,
                folder,
            )
        app.mount(
            f"{VENDOR_URL}/{package}",
            RevalidatedStaticFiles(directory=folder, check_dir=False),
            name=f"vendor-{package}",
        )
