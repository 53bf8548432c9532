"""The ASGI application: API routers, web pages, error handling, lifespan."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from omniretail import __version__
from omniretail.platform import gc_tuning
from omniretail.platform.config import Settings, get_settings
from omniretail.platform.db import Database, create_database

from . import docs, health
from .direct import DirectDispatch
from .problems import install_problem_handlers

log = logging.getLogger("omniretail")

API_PREFIX = "/api/v1"

DESCRIPTION = """
omniretail is the single source of truth for catalog, stock, prices, customers and orders across stores,
webshop and marketplaces.

* Authenticate with `Authorization: Bearer <token>` (create one with `omniretail token create`).
* Errors are RFC 9457 problem details (`application/problem+json`) with a stable `type`.
* List endpoints use cursor pagination: pass `next_cursor` back as `cursor`.
* `POST` honours `Idempotency-Key`: a retry with the same key and body gets the first response back
  (header `Idempotent-Replayed: true`); the same key with another body is a 422.
"""


def create_app(settings: Settings | None = None, db: Database | None = None, *, server: bool = False,
               direct_dispatch: bool = True) -> FastAPI:
    """``server``: this process serves the app until it exits (the garbage collector is tuned after
    startup: platform/gc_tuning.py); tests and in-process embedders leave it off. ``direct_dispatch``: the
    hottest endpoints are served past FastAPI's router (api/direct.py); off, every request takes the router
    (the tests compare the two)."""
    settings = settings or get_settings()
    owns_db = db is None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if app.state.db is None:
            app.state.db = create_database(settings.database_url, echo=settings.sql_echo,
                                           pool_size=settings.db_pool_size, pool_overflow=settings.db_pool_overflow,
                                           pre_ping=settings.db_pool_pre_ping)
        if app.state.db.is_sqlite:
            log.info("embedded SQLite mode: one process, writers serialised (%s)", settings.database_url)
        worker = None
        if app.state.db.is_sqlite and settings.inprocess_worker:  # PostgreSQL: run `omniretail worker`
            from omniretail import handlers
            from omniretail.platform.worker import start_inprocess_worker

            worker = await start_inprocess_worker(app.state.db, settings, registry=handlers.load())
        app.state.worker = worker
        if server:
            gc_tuning.apply(settings.gc_threshold)
        yield
        if worker is not None:
            await worker.shutdown()
        if owns_db and app.state.db is not None:
            await app.state.db.dispose()

    app = FastAPI(
        title="omniretail", version=__version__, description=DESCRIPTION, lifespan=lifespan,
        openapi_url="/openapi.json", docs_url=None, redoc_url=None,  # /docs: api/docs.py, no CDN
    )
    app.state.settings = settings
    app.state.db = db
    settings.resolved_secret_key()  # make sure the instance secret exists before the first request
    install_problem_handlers(app)

    from .routers import API_ROUTERS, DIRECT_ENDPOINTS

    if direct_dispatch:  # added first: the innermost of the app's middleware, inside the metrics
        app.add_middleware(DirectDispatch, fastapi=app, endpoints=DIRECT_ENDPOINTS, prefix=API_PREFIX)
    app.add_middleware(health.MetricsMiddleware)
    app.include_router(health.router)
    app.include_router(docs.router)

    from omniretail.channels.feeds.endpoints import public_router as feeds_router  # Google fetches /feeds/…

    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(feeds_router)

    from omniretail.web.pages import install_web

    install_web(app)
    return app
