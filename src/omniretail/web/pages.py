"""Server-rendered pages: templates, static files, CSRF cookie and the page routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from . import (
    admin_pages,
    auth_pages,
    backoffice_pages,
    curbside_pages,
    customer_pages,
    decline_pages,
    job_pages,
    order_pages,
    order_return_pages,
    phantom_pages,
    pickup_pages,
    pos_pages,
    pos_shift_pages,
    receive_pages,
    stock_pages,
    store_pages,
    store_return_pages,
)
from .auth_pages import home_of
from .csrf import CsrfCookieMiddleware
from .deps import MaybePrincipal, PageRoute
from .templating import build_templates

STATIC_DIR = Path(__file__).resolve().parent / "static"

root_router = APIRouter(route_class=PageRoute, include_in_schema=False)


@root_router.get("/")
async def root(principal: MaybePrincipal) -> RedirectResponse:
    if principal is None or principal.user_id is None:
        return RedirectResponse("/login", status_code=303)
    return RedirectResponse(home_of(principal.role), status_code=303)


def install_web(app: FastAPI) -> None:
    app.state.templates = build_templates()
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(CsrfCookieMiddleware, secure=app.state.settings.secure_cookies)
    for router in (root_router, auth_pages.router, backoffice_pages.router, store_pages.router,
                   stock_pages.router, pickup_pages.router, store_return_pages.router, pos_pages.router, pos_shift_pages.router,
                   order_pages.router, order_return_pages.router, customer_pages.router, admin_pages.router, job_pages.router,
                   phantom_pages.router, receive_pages.router, decline_pages.router, curbside_pages.router):
        app.include_router(router)
