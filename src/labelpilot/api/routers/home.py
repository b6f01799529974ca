"""The start page until the web editor arrives: what is running and where the API is."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from labelpilot import __version__

router = APIRouter(include_in_schema=False)

HOME = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>LabelPilot</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1d2733}}
code{{background:#eef2f6;padding:0 .3em;border-radius:3px}}a{{color:#0b63c5}}</style></head>
<body><h1>LabelPilot {__version__}</h1>
<p>The server is running. The web editor is not part of this build yet; use the HTTP API:</p>
<ul><li><a href="/docs">interactive API documentation</a> (log in with <code>POST /api/auth/login</code>,
or send a personal token as <code>Authorization: Bearer</code>)</li>
<li><a href="/openapi.json">OpenAPI schema</a></li></ul>
<p>The demo logins were printed in the terminal that started <code>make run</code>.</p></body></html>"""


@router.get("/", response_class=HTMLResponse)
def home() -> str:
    return HOME
