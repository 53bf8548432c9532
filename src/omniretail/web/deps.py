"""What pages depend on: the route class (errors become pages), the signed-in principal, rendering."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse

from omniretail.api.deps import authorised
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.errors import (
    PROBLEM_TYPE_PREFIX,
    DomainError,
    NotAuthenticated,
    NotFound,
)
from omniretail.platform.i18n import display_zone

from .i18n import N_, page_zone


class PageRoute(TransactionalRoute):
    """One transaction per request (as the API), but failures answer as pages: signed out goes to the
    sign-in form, a domain error renders ``error.html`` with its status, whatever the Accept header says."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except NotAuthenticated:
                return redirect_to_login(request)
            except DomainError as exc:
                return render_error(request, exc.to_problem(request.url.path), exc)
            except RequestValidationError:
                return render_error(request, {
                    "type": PROBLEM_TYPE_PREFIX + "not-found", "title": "Not found", "status": 404,
                    "detail": "there is no such page", "instance": request.url.path,
                }, NotFound("there is no such page"))

        return handler


def redirect_to_login(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    query = "" if target == "/" else "?next=" + quote(target, safe="/")
    return RedirectResponse(f"/login{query}", status_code=303)


def render(request: Request, template: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200) -> Response:
    """The page rendered now, its times in the page's zone (``i18n.page_zone``): ``| when`` converts to it."""
    context = context or {}
    zone, labelled = page_zone(request, context)
    with display_zone(zone, labelled=labelled):
        return request.app.state.templates.TemplateResponse(request, template, context, status_code=status_code)


def render_error(request: Request, problem: dict[str, Any], exc: DomainError | None = None) -> Response:
    """The error page; ``exc``: the refusal, said in the reader's language where it is known
    (``error_text.describe``), else the service's English words."""
    from .error_text import describe  # it builds on the page helpers, which build on this module

    said = describe(request, exc) if exc is not None else None
    return render(request, "error.html", {"problem": problem, "said": said if said != problem.get("detail") else None},
                  status_code=problem["status"])


async def optional_principal(request: Request) -> Principal | None:
    return getattr(request.state, "principal", None)


def signed_in(permission: str):
    """The signed-in principal holding ``permission``; signed out → sign-in form; otherwise a 403 page."""

    async def check(request: Request) -> Principal:  # async: no thread-pool hop
        return authorised(request, permission, doing="open this page")

    return Depends(check)


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
CatalogReader = Annotated[Principal, signed_in("catalog:read")]
LocationsReader = Annotated[Principal, signed_in("locations:read")]
ChannelsReader = Annotated[Principal, signed_in("channels:read")]
OverviewReader = Annotated[Principal, signed_in("analytics:read")]
StoreWorker = Annotated[Principal, signed_in("inventory:write")]

# Problem titles shown on error pages, marked here so they are extracted for translation.
PROBLEM_TITLES = (
    N_("Not found"), N_("Permission denied"), N_("Authentication required"), N_("Invalid input"),
    N_("Conflict"), N_("Bad request"), N_("Internal server error"), N_("Service unavailable"),
    N_("Request validation failed"), N_("Method Not Allowed"), N_("Not Found"),
)
