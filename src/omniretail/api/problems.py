"""Every error leaves as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging

from asyncpg.exceptions import DataError as AsyncpgDataError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from omniretail.platform.errors import PROBLEM_TYPE_PREFIX, DomainError

log = logging.getLogger("omniretail.api")

PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_response(request: Request, body: dict, headers: dict | None = None):
    if _wants_html(request):
        templates = getattr(request.app.state, "templates", None)
        if templates is not None:
            return templates.TemplateResponse(
                request, "error.html", {"problem": body}, status_code=body["status"], headers=headers
            )
        return HTMLResponse(f"<h1>{body['title']}</h1><p>{body['detail']}</p>", status_code=body["status"])
    return JSONResponse(body, status_code=body["status"], media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _wants_html(request: Request) -> bool:
    if request.url.path.startswith("/api/"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _problem(status: int, code: str, title: str, detail: str, request: Request, **extra) -> dict:
    return {"type": PROBLEM_TYPE_PREFIX + code, "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **extra}


def _refused_while_binding(error: BaseException) -> bool:
    """asyncpg refused a parameter while encoding it: an integer beyond 64 bits."""
    return isinstance(error, AsyncpgDataError) and "out of int64 range" in str(error)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError):
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return problem_response(request, exc.to_problem(request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        errors = [
            {"location": list(err.get("loc", ())), "message": err.get("msg", ""), "type": err.get("type", "")}
            for err in exc.errors()
        ]
        body = _problem(422, "validation-failed", "Request validation failed",
                        f"{len(errors)} field(s) failed validation", request, errors=errors)
        return problem_response(request, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        body = _problem(exc.status_code, code, str(exc.detail), str(exc.detail), request)
        return problem_response(request, body, getattr(exc, "headers", None))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        log.info("integrity error on %s: %s", request.url.path, exc.orig)
        body = _problem(409, "conflict", "Conflict", "the change conflicts with existing data", request)
        return problem_response(request, body)

    # A value the database cannot hold (an id beyond 64 bits in a path, where no schema sets a bound): the driver
    # refuses it (SQLite: OverflowError; asyncpg: DataError while binding; PostgreSQL: a data exception).
    @app.exception_handler(OverflowError)
    @app.exception_handler(DataError)
    async def _out_of_range(request: Request, exc: Exception):
        log.info("value out of range on %s: %s", request.url.path, exc)
        body = _problem(422, "value-out-of-range", "Value out of range",
                        "a value in the request cannot be stored: a number beyond 9223372036854775807, or text "
                        "longer than its field holds", request)
        return problem_response(request, body)

    @app.exception_handler(DBAPIError)
    async def _driver(request: Request, exc: DBAPIError):
        if _refused_while_binding(getattr(exc.orig, "__cause__", None) or exc.orig):  # through SQLAlchemy
            return await _out_of_range(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(AsyncpgDataError)
    async def _driver_direct(request: Request, exc: Exception):
        if _refused_while_binding(exc):  # the hot paths' statements sent straight through asyncpg
            return await _out_of_range(request, exc)
        return await _unexpected(request, exc)

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError):
        log.warning("database unavailable on %s: %s", request.url.path, exc.orig)
        body = _problem(503, "database-unavailable", "Service unavailable",
                        "the database is busy or unreachable; retry shortly", request)
        return problem_response(request, body, {"Retry-After": "1"})

    @app.exception_handler(PoolTimeout)
    async def _pool_timeout(request: Request, exc: PoolTimeout):
        log.warning("no database connection free in time on %s: %s", request.url.path, exc)
        body = _problem(503, "database-busy", "Service unavailable",
                        "every database connection of this process is in use; retry shortly", request)
        return problem_response(request, body, {"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        body = _problem(500, "internal-error", "Internal server error", "an unexpected error occurred", request)
        return problem_response(request, body)
