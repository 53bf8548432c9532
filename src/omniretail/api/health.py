"""Liveness, database reachability and Prometheus metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram
from sqlalchemy import text

router = APIRouter(tags=["operations"])

REQUESTS = Counter("omniretail_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "omniretail_http_request_seconds", "HTTP request latency", ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


@router.get("/healthz", summary="Liveness and database reachability")
async def healthz(request: Request) -> JSONResponse:
    db = request.app.state.db
    started = time.perf_counter()
    try:
        async with db.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        database = {"status": "ok", "backend": db.backend,
                    "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
        status = 200
    except Exception as exc:
        database = {"status": "unreachable", "backend": db.backend, "error": type(exc).__name__}
        status = 503
    return JSONResponse({"status": "ok" if status == 200 else "degraded", "database": database},
                        status_code=status)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    from omniretail.platform import metrics as shared  # the registry shared with the worker's metrics port

    return Response(await shared.render(getattr(request.app.state, "db", None)), media_type=CONTENT_TYPE_LATEST)


class MetricsMiddleware:
    """Pure ASGI middleware: counts requests and their latency per route template."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status_holder = {"status": 500}

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            method = scope.get("method", "")
            REQUESTS.labels(method, template, str(status_holder["status"])).inc()
            LATENCY.labels(method, template).observe(time.perf_counter() - started)
