"""A logged-in HTTP client of the LabelPilot API, as the browser uses it: a session cookie and the
CSRF token on every unsafe request."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx2

TIMEOUT_S = 60.0
"""Generous: the guidance queue of a large scene takes seconds on a busy 2-core machine."""


class ApiError(RuntimeError):
    """The server answered with an unexpected status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: {status} {body[:300]}")
        self.status = status


class ApiClient:
    """One person's session on the server."""

    def __init__(self, base_url: str, name: str, password: str) -> None:
        self.name = name
        self._client = httpx2.Client(base_url=base_url, timeout=TIMEOUT_S)
        answer = self.call("POST", "/api/auth/login", {"name": name, "password": password})
        self._client.headers["X-CSRF-Token"] = answer["csrf_token"]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: Mapping[str, str | int] | None = None,
        missing_ok: bool = False,
    ) -> Any:
        """The parsed JSON answer (None for an empty answer, or a 404 when ``missing_ok``)."""
        response = self._client.request(method, path, json=body, params=params)
        if missing_ok and response.status_code == 404:
            return None
        if response.status_code >= 300:
            raise ApiError(method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
