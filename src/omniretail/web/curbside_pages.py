"""The curbside customer's "I'm here" page, behind the link of a curbside ``ready_for_pickup`` message (no
sign-in: the signed token is the key, ``orders.pickup_codes.check_in_token``).

``GET /curbside/{fulfilment_order_id}?token=…`` shows the order, the store and what to do — park in a curbside
bay, say "I'm here" — with a form: the bay number and the car, both optional. It posts the token to the same
path and calls ``orders.fulfilment.check_in``, the service function of ``POST /api/v1/fulfilment-orders/{id}/
check-in``: the store's queue shows the customer at once (``orders.store_alert`` kind ``curbside_arrival``),
and the order's timeline names the actor ``customer:check-in-link``. Then the page is shown again (303), now
saying that the store knows; the customer can still correct the bay. Collected or cancelled orders, orders not
ready to be brought out (waiting for a transfer), a bad, expired or unknown link are each a page in the order's
language (a bad link: the browser's), with no staff navigation (``templates/public``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy import select

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.locations.capacity import DEFAULT_TIMEZONE
from omniretail.locations.models import Location
from omniretail.notifications.templates import LocaleFormat
from omniretail.orders import fulfilment, pickup_codes, pickup_deadline, service
from omniretail.orders.schemas import CheckIn
from omniretail.orders.states import FulfilmentState
from omniretail.orders.tables import channel_t
from omniretail.platform.errors import Conflict, InvalidInput, PermissionDenied
from omniretail.platform.i18n import normalise_locale

from .csrf import verify_csrf
from .deps import PageRoute, render
from .i18n import N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PATH = pickup_codes.CHECK_IN_PATH.replace("{fulfilment_order_id}", "{fo_id}")
F = FulfilmentState
# the states ``fulfilment.check_in`` accepts: the store still has the order for the customer
CAN_CHECK_IN = frozenset({F.NEW.value, F.PICKING.value, F.PICKED.value, F.READY_FOR_PICKUP.value})
LIMITS = {"bay": 40, "car": 200}  # as ``orders.schemas.CheckIn``
TOO_LONG = {"bay": N_("Please keep the bay number short (at most 40 characters)."),
            "car": N_("Please keep the description of your car short (at most 200 characters).")}
STALE_FORM = N_("The page was open for too long, so nothing was sent. Please press the button again.")
_PRINCIPAL = Principal.system(pickup_codes.CHECK_IN_ACTOR)
_LOCATION = Location.__table__


@dataclass
class Visit:
    """What the page shows of one curbside fulfilment order."""

    fo_id: int
    order_number: str
    locale: str
    shop_name: str
    delivery_method: str
    state: str
    checked_in_at: datetime | None
    check_in: dict[str, Any]
    store: dict[str, Any]
    ready_until: datetime | None

    @property
    def ready(self) -> bool:
        return self.state == F.READY_FOR_PICKUP.value

    @property
    def can_check_in(self) -> bool:
        return self.delivery_method == "curbside" and self.state in CAN_CHECK_IN


def _secret(request: Request) -> str:
    return request.app.state.settings.resolved_secret_key()


async def read_visit(session, fo_id: int) -> Visit | None:
    """The fulfilment order, its order and its store as the page shows them (None: no such order)."""
    fo = (await session.execute(select(service.FULFILMENT).where(service.FULFILMENT.c.id == fo_id))).first()
    order = None if fo is None else await service.order_row(session, fo.order_id)
    if fo is None or order is None:
        return None
    settings = (await session.execute(select(channel_t.c.settings).where(
        channel_t.c.id == order["channel_id"]))).scalar_one_or_none() or {}
    loc = (await session.execute(select(_LOCATION).where(_LOCATION.c.id == fo.location_id))).first()
    store = {"name": "", "street": "", "postal_code": "", "city": "", "phone": "", "timezone": "",
             "opening_hours": {}} if loc is None else {
        "name": loc.name, "street": loc.street or "", "postal_code": loc.postal_code or "", "city": loc.city or "",
        "phone": loc.phone or "", "timezone": loc.timezone or "", "opening_hours": loc.opening_hours or {}}
    ready_until = None
    if fo.ready_at is not None and fo.state == F.READY_FOR_PICKUP.value:
        ready_until = pickup_deadline.collect_by(fo.ready_at, days=pickup_deadline.expiry_days(settings),
                                                 opening_hours=store["opening_hours"], timezone=store["timezone"])
    return Visit(fo_id=fo_id, order_number=order["number"], locale=normalise_locale(order["locale"]),
                 shop_name=str(settings.get("shop_name") or ""), delivery_method=fo.delivery_method,
                 state=fo.state, checked_in_at=fo.checked_in_at, check_in=dict(fo.check_in or {}), store=store,
                 ready_until=ready_until)


def _outcome(request: Request, outcome: str, *, visit: Visit | None = None, status_code: int = 200) -> Response:
    if visit is not None:
        request.state.locale = visit.locale
    return render(request, "public/curbside_result.html", {
        "outcome": outcome, "visit": visit, "shop_name": visit.shop_name if visit else ""},
        status_code=status_code)


async def _checked(request: Request, session, fo_id: int, token: str) -> Visit | Response:
    """The visit behind a valid link, or the page that says why there is none."""
    try:
        pickup_codes.check_check_in_token(fo_id, token, secret_key=_secret(request))
    except pickup_codes.InvalidCheckInLink as exc:
        if exc.extensions.get("expired"):
            visit = await read_visit(session, fo_id)
            if visit is not None:
                request.state.locale = visit.locale
            return _outcome(request, "expired", status_code=410)
        return _outcome(request, "invalid", status_code=403)
    visit = await read_visit(session, fo_id)
    if visit is None:
        return _outcome(request, "not_found", status_code=404)
    request.state.locale = visit.locale
    return visit


def _closed_outcome(visit: Visit) -> str | None:
    """Why the page offers no check-in, if it does not."""
    if visit.can_check_in:
        return None
    if visit.state == F.HANDED_OVER.value:
        return "collected"
    if visit.state == F.CANCELLED.value:
        return "cancelled"
    if visit.delivery_method != "curbside":
        return "in_store"
    return "not_ready"  # e.g. still on its way to the store (ship-to-store)


def _page(request: Request, visit: Visit, token: str, *, values: dict[str, str] | None = None,
          errors: dict[str, str] | None = None, form_error: str | None = None, status_code: int = 200) -> Response:
    closed = _closed_outcome(visit)
    if closed is not None:
        return _outcome(request, closed, visit=visit, status_code=status_code)
    # the deadline as the customer's message words it (date and time in the store's zone)
    collect_by = LocaleFormat(visit.locale, "EUR").until(visit.ready_until, visit.store["timezone"] or DEFAULT_TIMEZONE)
    return render(request, "public/curbside.html", {
        "visit": visit, "shop_name": visit.shop_name, "token": token, "collect_by": collect_by,
        "action": PATH.format(fo_id=visit.fo_id), "values": values or dict(visit.check_in),
        "errors": errors or {}, "form_error": form_error,
    }, status_code=status_code)


@router.get(PATH)
async def check_in_page(request: Request, session: SessionDep, fo_id: int, token: str = "") -> Response:
    visit = await _checked(request, session, fo_id, token)
    if isinstance(visit, Response):
        return visit
    return _page(request, visit, token)


@router.post(PATH)
async def check_in_form(request: Request, session: SessionDep, fo_id: int,
                        token: Annotated[str, Form()] = "", bay: Annotated[str, Form()] = "",
                        car: Annotated[str, Form()] = "") -> Response:
    visit = await _checked(request, session, fo_id, token)
    if isinstance(visit, Response):
        return visit
    values = {"bay": " ".join(bay.split()), "car": " ".join(car.split())}
    if _closed_outcome(visit) is not None:
        return _page(request, visit, token, status_code=409)
    try:
        await verify_csrf(request)
    except PermissionDenied:
        return _page(request, visit, token, values=values, form_error=STALE_FORM, status_code=403)
    errors = {k: TOO_LONG[k] for k, v in values.items() if len(v) > LIMITS[k]}
    if errors:
        return _page(request, visit, token, values=values, errors=errors, status_code=422)
    try:
        await fulfilment.check_in(session, fo_id, data=CheckIn(**values), principal=_PRINCIPAL,
                                  actor=pickup_codes.CHECK_IN_ACTOR)
    except (Conflict, InvalidInput):  # collected, cancelled or re-routed meanwhile: nothing was written
        return _page(request, await read_visit(session, fo_id) or visit, token, status_code=409)
    return RedirectResponse(f"{PATH.format(fo_id=fo_id)}?token={quote(token, safe='.')}", status_code=303)
