"""The LabelPilot API as the server benchmark runs it: the real app under uvicorn, plus request timing.

    .venv/bin/python benchmarks/server_app.py --port PORT

Settings come from the ``LABELPILOT_*`` environment (home, database URL, blob root). The app is
wrapped in ``TimedApp``, which records for every request the time until the response headers
left and the time until the app returned. The two differ by whatever runs after the response is
sent: FastAPI closes dependencies with ``yield`` (the database transaction, so its commit) only then.
``GET /__bench/timings`` hands the records over and forgets them; nothing else is added to the API.
``--threads`` changes the size of the worker thread pool, to see how the results depend on it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import deque
from typing import Any

import anyio.to_thread
import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from labelpilot.api.app import create_app
from labelpilot.settings import Settings

TIMINGS_PATH = "/__bench/timings"
MAX_RECORDS = 200_000
"""Oldest records are dropped beyond this, so a long run cannot grow the server without bound."""


class TimedApp:
    """ASGI wrapper: one record per HTTP request (method, path, status, ms to headers, ms in total)."""

    def __init__(self, app: ASGIApp, threads: int | None = None) -> None:
        self.app = app
        self.threads = threads
        self.records: deque[dict[str, Any]] = deque(maxlen=MAX_RECORDS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" and self.threads:
            # The worker threads that run sync endpoints and dependencies (anyio's default: 40);
            # the limiter belongs to the running event loop, so it is set from inside it.
            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] == TIMINGS_PATH:
            await self._hand_over(send)
            return
        start = time.perf_counter()
        record: dict[str, Any] = {"method": scope["method"], "path": scope["path"], "status": 0}

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                record["status"] = int(message["status"])
                record["headers_ms"] = (time.perf_counter() - start) * 1000.0
            await send(message)

        try:
            await self.app(scope, receive, timed_send)
        finally:
            record["total_ms"] = (time.perf_counter() - start) * 1000.0
            self.records.append(record)

    async def _hand_over(self, send: Send) -> None:
        body = json.dumps(list(self.records)).encode()
        self.records.clear()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=None, help="worker threads (default: anyio's 40)")
    args = parser.parse_args()
    app = TimedApp(create_app(Settings()), args.threads)
    # Loopback only; one worker, as `labelpilot serve` runs it.
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
