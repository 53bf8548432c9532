"""Direct dispatch of the hottest endpoints, past FastAPI's router and dependency solving.

Placing an order is the request every channel sends, many at once. For it FastAPI matches the route, solves
the endpoint's dependencies, decodes the JSON body into Python objects, validates them and wraps the call in
two more middlewares: measured in process on PostgreSQL, ≈ 14 % of the server's CPU per order, all of it the
same work for every request.

A route declared with :class:`DirectEndpoint` stays a FastAPI route: the OpenAPI document, and the path for
every request the direct dispatch declines. The direct dispatch serves it with everything but the parsing taken
from it: the request's transaction (``routing.in_transaction``: session, caller, ``Idempotency-Key``, audit,
commit), the permission its ``require`` names (checked by ``deps.authorised``), the body's model, the endpoint
function itself, and the app's error handlers (the same problem responses). Only the body is parsed here:
decoded with orjson and validated against the model, in Python mode as FastAPI validates it.

Declined, and handed on to the FastAPI route with the body replayed, so that it answers exactly as it always
has: a body not sent as ``application/json``, one that is not JSON, and one that fails validation (its 422
names the fields as FastAPI names them). The Prometheus counter ``omniretail_direct_dispatch_total`` counts
both outcomes per route.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import Counter
from pydantic import BaseModel, ValidationError
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .deps import authorised, get_session
from .routing import TransactionalRoute, in_transaction

DISPATCHED = Counter("omniretail_direct_dispatch_total",
                     "Requests to a directly dispatched endpoint: served directly, or declined to FastAPI",
                     ["route", "outcome"])

_SCOPE_KEY = "omniretail.direct"


@dataclass(frozen=True)
class DirectEndpoint:
    """The route ``method`` ``path`` of ``router`` (its path there, without the API prefix). Its function must
    take exactly ``session`` (``deps.SessionDep``), ``principal`` (``deps.require(permission)``) and ``data``
    (the JSON body, a pydantic model), and return the response; the permission and the model are read from
    the route."""

    router: APIRouter
    method: str
    path: str


@dataclass(frozen=True)
class _Entry:
    route: APIRoute
    body: type[BaseModel]
    permission: str
    served: Any  # the Prometheus children, looked up once
    declined: Any


def _entry(declared: DirectEndpoint, path: str) -> _Entry:
    """What the direct dispatch needs of the route, refused unless the route needs nothing more (FastAPI would
    solve anything more on the route, and it would be skipped here)."""
    where = f"{declared.method} {path}"
    route = next((r for r in declared.router.routes if isinstance(r, APIRoute) and r.path == declared.path
                  and declared.method in r.methods), None)
    if not isinstance(route, TransactionalRoute):
        raise RuntimeError(f"{where}: no transactional route")
    dependant = route.dependant
    calls = {d.name: d.call for d in dependant.dependencies}
    body = [p for p in dependant.body_params if p.name == "data"]
    model = body[0].field_info.annotation if len(body) == 1 else None
    permission = getattr(calls.get("principal"), "permission", None)
    if (set(inspect.signature(route.endpoint).parameters) != {"session", "principal", "data"}
            or route.dependencies or set(calls) != {"session", "principal"} or calls["session"] is not get_session
            or permission is None or not (isinstance(model, type) and issubclass(model, BaseModel))
            or dependant.path_params or dependant.query_params or dependant.header_params
            or dependant.cookie_params or len(dependant.body_params) != 1):
        raise RuntimeError(f"{where}: the endpoint must take session (SessionDep), principal "
                           f"(require(permission)) and data (a model) and nothing else, with no route dependencies")
    return _Entry(route, model, permission, DISPATCHED.labels(path, "served"), DISPATCHED.labels(path, "declined"))


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
        """On the first request, when every route is included: each declared route, checked to be one the
        direct dispatch can serve as FastAPI would, and the app's error handlers around the direct call (those
        for 500 and ``Exception`` answer from the error middleware outside, as for every route)."""
        table = {key: _entry(declared, key[1]) for key, declared in self.declared.items()}
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
            data = entry.body.model_validate(orjson.loads(body))
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
        route = entry.route
        request = Request(scope, receive)

        async def call(request: Request) -> Response:
            principal = authorised(request, entry.permission)
            return await route.endpoint(session=request.state.session, principal=principal, data=data)

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
