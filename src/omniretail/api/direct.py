"""Direct dispatch of the hottest endpoints, past FastAPI's router and dependency solving.

Placing an order is the request every channel sends, many at once. For it FastAPI matches the route, solves
the endpoint's dependencies, decodes the JSON body into Python objects, validates them and wraps the call in
two more middlewares: measured in process on PostgreSQL, ≈ 14 % of the server's CPU per order, all of it the
same work for every request.

An endpoint declared with :class:`DirectEndpoint` keeps its FastAPI route: the OpenAPI document, and the path
for every request the direct dispatch declines. What it shares with that route is everything but the parsing:
the request's transaction (``routing.in_transaction``: session, caller, ``Idempotency-Key``, audit, commit),
the permission check (``deps.authorised``), the endpoint function itself, and the app's error handlers (the
same problem responses). Only the body is parsed here: decoded with orjson and validated against the
endpoint's model in one call, as FastAPI validates it.

Declined, and handed on to the FastAPI route with the body replayed, so that it answers exactly as it always
has: a body not sent as ``application/json``, one that is not JSON, and one that fails validation (its 422
names the fields as FastAPI names them). The Prometheus counter ``omniretail_direct_dispatch_total`` counts
both outcomes per route.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .deps import authorised
from .routing import TransactionalRoute, in_transaction

DISPATCHED = Counter("omniretail_direct_dispatch_total",
                     "Requests to a directly dispatched endpoint: served directly, or declined to FastAPI",
                     ["route", "outcome"])

_SCOPE_KEY = "omniretail.direct"


@dataclass(frozen=True)
class DirectEndpoint:
    """The route ``method`` ``path`` of ``router`` (its path there, without the API prefix): its own function
    ``endpoint`` is called with ``session``, ``principal`` and ``data`` (the validated ``body``) and returns the
    response."""

    router: APIRouter
    method: str
    path: str
    body: type[BaseModel]
    permission: str
    endpoint: Callable[..., Awaitable[Response]]


@dataclass(frozen=True)
class _Entry:
    declared: DirectEndpoint
    route: APIRoute
    served: Any  # the Prometheus children, looked up once
    declined: Any


class DirectDispatch:
    """Pure ASGI middleware, innermost of the app's own: inside the metrics (which label the request by its
    route, set here as the router sets it) and the error middleware, outside FastAPI's router. ``prefix``: where
    the routers are mounted (``/api/v1``)."""

    def __init__(self, app: ASGIApp, *, fastapi: FastAPI, endpoints: Iterable[DirectEndpoint],
                 prefix: str = "") -> None:
        self.app = app
        self.fastapi = fastapi
        self.declared = {(e.method, prefix + e.path): e for e in endpoints}
        self.table: dict[tuple[str, str], _Entry] | None = None
        self.handled: ASGIApp | None = None

    def _prepare(self) -> None:
        """On the first request, when every route is included: each declared endpoint's route, checked to be
        the one it stands for, and the app's error handlers around the direct call (those for 500 and
        ``Exception`` answer from the error middleware outside, as for every route)."""
        table = {}
        for (method, path), declared in self.declared.items():
            route = next((r for r in declared.router.routes if isinstance(r, APIRoute)
                          and r.path == declared.path and method in r.methods), None)
            if route is None or route.endpoint is not declared.endpoint or not isinstance(route, TransactionalRoute):
                raise RuntimeError(f"{method} {path}: no transactional route with the declared endpoint")
            params = set(inspect.signature(declared.endpoint).parameters)
            if params != {"session", "principal", "data"} or route.dependencies:
                # anything more would be solved by FastAPI on the route and skipped here
                raise RuntimeError(f"{method} {path}: the endpoint must take session, principal and data and "
                                   f"nothing else, with no dependencies of its route")
            table[(method, path)] = _Entry(declared, route, DISPATCHED.labels(path, "served"),
                                           DISPATCHED.labels(path, "declined"))
        handlers = {k: v for k, v in self.fastapi.exception_handlers.items() if k not in (500, Exception)}
        self.handled = ExceptionMiddleware(self._serve, handlers=handlers)
        self.table = table

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.table is None:
            self._prepare()
        entry = self.table.get((scope["method"], scope["path"]))
        if entry is None:
            await self.app(scope, receive, send)
            return
        if not _sent_as_json(scope):
            entry.declined.inc()
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away while sending: nothing to answer
            return
        replay = _replaying(body, receive)
        try:
            data = entry.declared.body.model_validate(orjson.loads(body))
        except (orjson.JSONDecodeError, ValidationError):
            entry.declined.inc()
            await self.app(scope, replay, send)
            return
        entry.served.inc()
        scope["route"] = entry.route
        scope["endpoint"] = entry.route.endpoint
        scope[_SCOPE_KEY] = (entry, data)
        await self.handled(scope, replay, send)

    @staticmethod
    async def _serve(scope: Scope, receive: Receive, send: Send) -> None:
        entry, data = scope.pop(_SCOPE_KEY)
        declared, route = entry.declared, entry.route
        request = Request(scope, receive)

        async def call(request: Request) -> Response:
            principal = authorised(request, declared.permission)
            return await declared.endpoint(session=request.state.session, principal=principal, data=data)

        response = await in_transaction(request, call, route_name=route.name,
                                        success_status=route.status_code or 200)
        await response(scope, receive, send)


def _sent_as_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            return value.split(b";", 1)[0].strip().lower() == b"application/json"
    return False


async def _read_body(receive: Receive) -> bytes | None:
    """The whole body, or None if the client disconnected before it was sent."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` for what runs next: the body read here once, then the client's own messages."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
