"""The customer's page behind the decline link of a changed-line message (no sign-in: the signed token is the
key). ``GET /orders/{id}/lines/{line_id}/decline?token=…`` shows the order, the line and what changed, with two
choices: keep the order as changed (``…/decline/kept``, nothing to do but thank them) or have the line refunded
(a form posting the token to the same path → ``orders.decline.decline_line``). Every outcome — refunded,
already refunded, too late, a bad or expired link — is a page in the order's language, with no staff
navigation (``templates/public``). Integrators use ``POST /api/v1/…/decline`` instead.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response

from omniretail.api.deps import SessionDep
from omniretail.orders import decline
from omniretail.orders.decline_offer import DeclineOffer, order_locale, read_offer
from omniretail.platform.errors import NotFound, PermissionDenied

from .csrf import verify_csrf
from .deps import PageRoute, render
from .i18n import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = "/orders/{order_id}/lines/{line_id}/decline"
STALE_FORM = N_("The page was open for too long, so nothing was changed. Please choose again.")


def _secret(request: Request) -> str:
    return request.app.state.settings.resolved_secret_key()


def _page_path(offer: DeclineOffer) -> str:
    return PATH.format(order_id=offer.order_id, line_id=offer.line_id)


def _result(request: Request, outcome: str, *, offer: DeclineOffer | None = None, status_code: int = 200,
            **context: Any) -> Response:
    if offer is not None:
        request.state.locale = offer.locale
    return render(request, "public/decline_result.html", {
        "outcome": outcome, "offer": offer, "shop_name": offer.shop_name if offer else "", **context,
    }, status_code=status_code)


async def _bad_link(request: Request, session, exc: Exception, order_id: int) -> Response:
    """A link that cannot be used: the order's language only once the signature is known to be ours."""
    if isinstance(exc, decline.InvalidLink) and exc.extensions.get("expired"):
        locale = await order_locale(session, order_id)
        if locale:
            request.state.locale = locale
        return _result(request, "expired", status_code=410)
    if isinstance(exc, NotFound):
        return _result(request, "not_found", status_code=404)
    return _result(request, "invalid", status_code=403)


async def _offer(request: Request, session, order_id: int, line_id: int, token: str) -> DeclineOffer | Response:
    try:
        offer = await read_offer(session, order_id, line_id, token=token, secret_key=_secret(request))
    except (decline.InvalidLink, NotFound) as exc:
        return await _bad_link(request, session, exc, order_id)
    request.state.locale = offer.locale
    return offer


def _choice_page(request: Request, offer: DeclineOffer, token: str, *, form_error: str | None = None,
                 status_code: int = 200) -> Response:
    path = _page_path(offer)
    return render(request, "public/decline.html", {
        "offer": offer, "shop_name": offer.shop_name, "token": token, "action": path,
        "keep_url": f"{path}/kept?token={quote(token, safe='')}", "form_error": form_error,
    }, status_code=status_code)


def _nothing_left(request: Request, offer: DeclineOffer, *, status_code: int) -> Response:
    if offer.previous is not None:
        return _result(request, "already", offer=offer, status_code=status_code, previous=offer.previous)
    return _result(request, "too_late", offer=offer, status_code=status_code)


@router.get(PATH)
async def decline_page(request: Request, session: SessionDep, order_id: int, line_id: int,
                       token: str = "") -> Response:
    offer = await _offer(request, session, order_id, line_id, token)
    if isinstance(offer, Response):
        return offer
    if not offer.units:
        return _nothing_left(request, offer, status_code=200)
    return _choice_page(request, offer, token)


@router.get(PATH + "/kept")
async def kept_page(request: Request, session: SessionDep, order_id: int, line_id: int,
                    token: str = "") -> Response:
    offer = await _offer(request, session, order_id, line_id, token)
    if isinstance(offer, Response):
        return offer
    return _result(request, "kept", offer=offer)


@router.post(PATH)
async def decline_form(request: Request, session: SessionDep, order_id: int, line_id: int,
                       token: Annotated[str, Form()] = "") -> Response:
    offer = await _offer(request, session, order_id, line_id, token)
    if isinstance(offer, Response):
        return offer
    if not offer.units:
        return _nothing_left(request, offer, status_code=409)
    try:
        await verify_csrf(request)
    except PermissionDenied:
        return _choice_page(request, offer, token, status_code=403, form_error=STALE_FORM)
    try:
        done = await decline.decline_line(session, order_id, line_id, token=token, secret_key=_secret(request))
    except decline.NothingToDecline:  # declined meanwhile (another tab): nothing was written
        return _nothing_left(request, await read_offer(session, order_id, line_id, token=token,
                                                       secret_key=_secret(request)), status_code=409)
    refund = done["refund"]
    return _result(request, "refunded", offer=offer, declined=done["declined"],
                   refund_amount=Decimal(refund["amount"]) if refund else None)
