"""One HTTP status per service error, with a JSON body that names what was wrong."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from labelpilot.services.errors import (
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    ServiceError,
    UnauthenticatedError,
)

STATUS: dict[type[ServiceError], int] = {
    NotFoundError: 404,
    ForbiddenError: 403,
    UnauthenticatedError: 401,
    InvalidError: 422,
    ConflictError: 409,
}


async def _service_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
    body: dict[str, object] = {"error": exc.message}
    if isinstance(exc, InvalidError) and exc.field:
        body["field"] = exc.field
    if isinstance(exc, ConflictError) and exc.current:
        body["current"] = exc.current
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {"field": ".".join(str(p) for p in err.get("loc", ())), "error": err.get("msg", "invalid")}
        for err in exc.errors()
    ]
    first = problems[0] if problems else {"field": "", "error": "invalid request"}
    return JSONResponse(
        {"error": f"{first['field']}: {first['error']}", "field": first["field"], "problems": problems},
        status_code=422,
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    """The framework's own errors (unknown route, wrong method, unreadable body) in the same shape."""
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
