"""One transaction per request, committed before the response leaves.

``in_transaction`` opens the session (a writer slot for unsafe methods on SQLite), resolves who is calling,
replays or claims an ``Idempotency-Key``, runs the endpoint, records the audit entry and commits — all before
the response is sent, so a client never sees a success that was not committed. ``TransactionalRoute``, the
route class of every router, runs each endpoint in it; so does the direct dispatch (``api/direct.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import AsyncExitStack
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from omniretail.auth import service as auth_service
from omniretail.platform import idempotency
from omniretail.platform.errors import InvalidInput

from .authentication import resolve_principal

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Put on a POST route that only reads (a query with a large body): it then runs in a read transaction,
# takes no writer slot on SQLite and writes no audit entry.
READ_ONLY = {"x-read-only": True}


def _entity_from_path(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        return parts[2].replace("-", "_")
    return parts[0] if parts else None


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        route_name = self.name
        success_status = self.status_code or 200
        read_only = bool((self.openapi_extra or {}).get("x-read-only"))

        async def handler(request: Request) -> Response:
            return await in_transaction(request, original, route_name=route_name, success_status=success_status,
                                        read_only=read_only)

        return handler


async def in_transaction(request: Request, call: Callable[[Request], Coroutine[Any, Any, Response]], *,
                         route_name: str, success_status: int, read_only: bool = False) -> Response:
    """Run ``call`` (the endpoint with its dependencies) in the request's transaction: the session in
    ``request.state.session``, the caller in ``request.state.principal``, the ``Idempotency-Key`` claimed or
    replayed, the audit entry recorded and the commit done before the response is returned. Used by every
    ``TransactionalRoute`` and by the direct dispatch of the hottest endpoints (``api/direct.py``)."""
    db = request.app.state.db
    write = request.method not in SAFE_METHODS and not read_only
    async with AsyncExitStack() as stack:
        if write:
            await stack.enter_async_context(db.writer_slot())
        maker = db.sessionmaker if write else db.read_sessionmaker
        session = await stack.enter_async_context(maker())
        request.state.session = session
        try:
            principal = await resolve_principal(request, session)
            request.state.principal = principal
            key = request.headers.get("idempotency-key") if write and request.method == "POST" else None
            if key is not None and principal is not None:
                replay = await _claim_idempotency_key(request, session, principal, key)
                if replay is not None:
                    await session.rollback()
                    return replay
            audit = None
            if write and principal is not None:
                path = request.scope["path"]  # not request.url: a URL object parsed for one string
                audit = auth_service.PendingAudit(
                    principal, route_name, _entity_from_path(path),
                    {"method": request.method, "path": path, **({"idempotency_key": key} if key else {})},
                    status=success_status)
                auth_service.expect_audit(session, audit)
            response = await call(request)
            if not write or response.status_code >= 400:
                await session.rollback()
                return response
            if key is not None and principal is not None:
                await idempotency.store_response(
                    session, principal=principal.idempotency_scope, key=key,
                    status_code=response.status_code, body=_json_body(response),
                )
            if audit is not None and not audit.written:  # else written by the endpoint's own statement
                await auth_service.record_audit(
                    session, actor=principal, action=audit.action, entity=audit.entity,
                    entity_id=_entity_id(request, response),
                    data={**audit.data, "status": response.status_code},
                )
            await session.commit()
            return response
        except BaseException:
            await session.rollback()
            raise


async def _claim_idempotency_key(request: Request, session, principal, key: str) -> Response | None:
    if not key or len(key) > idempotency.MAX_KEY_LENGTH:
        raise InvalidInput(
            f"Idempotency-Key must be 1–{idempotency.MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    body = await request.body()
    stored = await idempotency.claim_key(
        session, principal=principal.idempotency_scope, key=key,
        request_hash=idempotency.fingerprint(request.method, request.url.path, body),
    )
    if stored is None:
        return None
    status, content = stored
    return JSONResponse(content, status_code=status, headers={"Idempotent-Replayed": "true"})


def _json_body(response: Response) -> Any:
    body = getattr(response, "body", b"")
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return {"_raw": body.decode("utf-8", "replace")[:10000]}


def _entity_id(request: Request, response: Response) -> Any:
    for name, value in request.path_params.items():
        if name.endswith("id") or name in ("code", "sku"):
            return value
    body = _json_body(response)
    if isinstance(body, dict) and "id" in body:
        return body["id"]
    return None
