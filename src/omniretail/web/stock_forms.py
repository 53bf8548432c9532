"""What the stock pages share: where a page lives (back office or one store), reading their forms, and
turning inventory's errors into messages next to the right field, in the reader's language.

Reading a form is presentation (text to numbers); every rule about stock is the inventory service's.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.inventory.errors import WrongState
from omniretail.locations import service as locations_service
from omniretail.locations.models import Location
from omniretail.platform import idempotency
from omniretail.platform.errors import DomainError, IdempotencyKeyReused, InvalidInput

from .deps import signed_in
from .i18n import N_, request_locale, translations_for

InventoryReader = Annotated[Principal, signed_in("inventory:read")]
InventoryWriter = Annotated[Principal, signed_in("inventory:write")]

MAX_FORM_LINES = 500
_LINE = re.compile(r"^\s*(?P<sku>[^\s=,;]+)\s*[\s=,;]\s*(?P<quantity>-?\d+)\s*$")

STATE_LABELS = {
    "requested": N_("Requested"), "in_transit": N_("In transit"), "received": N_("Received"),
    "cancelled": N_("Cancelled"), "open": N_("Open"), "submitted": N_("Waiting for approval"),
    "approved": N_("Approved"), "rejected": N_("Rejected"),
}
KIND_LABELS = {
    "receipt": N_("Receipt"), "sale": N_("Sale"), "adjustment": N_("Adjustment"),
    "transfer_out": N_("Transfer out"), "transfer_in": N_("Transfer in"), "return_restock": N_("Return to stock"),
    "count": N_("Count"), "damage": N_("Damage"),
}
DONE_MESSAGES = {
    "requested": N_("The transfer was requested."), "shipped": N_("The transfer was shipped."),
    "received": N_("The goods were received."), "cancelled": N_("The transfer was cancelled."),
    "created": N_("The count sheet was created."), "saved": N_("The counts were saved."),
    "submitted": N_("The counts were submitted."), "approved": N_("The counts were approved; stock was updated."),
    "rejected": N_("The counts were rejected; stock did not change."),
}
_WRONG_STATE = {
    ("transfer", "ship"): N_("This transfer was already shipped or cancelled."),
    ("transfer", "receive"): N_("Nothing on this transfer is in transit any more."),
    ("transfer", "cancel"): N_("Only a transfer that has not shipped can be cancelled."),
    ("count_sheet", "record"): N_("This count sheet is no longer open."),
    ("count_sheet", "submit"): N_("This count sheet was already submitted."),
    ("count_sheet", "approve"): N_("This count sheet is not waiting for approval."),
    ("count_sheet", "reject"): N_("This count sheet was already decided."),
}


@dataclass(frozen=True)
class Area:
    """Where a stock page lives: the back office (every visible location) or the store app of one store."""

    base: str
    store: Any = None  # the Location, in the store app

    @property
    def store_id(self) -> int | None:
        return None if self.store is None else self.store.id


BACKOFFICE = Area("/backoffice")


async def store_area(session: AsyncSession, principal: Principal, location_id: int) -> Area:
    """The store app of a location the principal may see (others are not found)."""
    location = await locations_service.get_location(session, location_id, principal=principal)
    return Area(f"/store/{location.id}", location)


async def location_choices(session: AsyncSession, principal: Principal, *,
                           where: Callable[[Any], bool] | None = None) -> dict[str, str]:
    """id → "name (code)" of the locations the principal may see (and ``where`` keeps), by name."""
    rows, _ = await locations_service.list_locations(session, principal=principal, limit=500, sort="name")
    return {str(loc.id): f"{loc.name} ({loc.code})" for loc in rows if where is None or where(loc)}


# locations that hold stock and so may send or receive a transfer (a pickup point only hands parcels over)
STOCK_KINDS = ("warehouse", "store")


async def transfer_choices(session: AsyncSession, principal: Principal) -> tuple[dict[str, str], dict[str, str]]:
    """The "send from" and "send to" lists of the request-a-transfer form, id → "name (code)" by name: goods
    may come from any active warehouse or store (an associate asks another store or the warehouse for stock),
    and go to the principal's own locations (any, for someone not tied to stores). The inventory service
    still decides what may be requested (``inventory.transfers.create_transfer``)."""
    rows = (await session.scalars(
        select(Location).where(Location.is_active.is_(True), Location.kind.in_(STOCK_KINDS))
        .order_by(Location.name, Location.id))).all()
    sources = {str(loc.id): f"{loc.name} ({loc.code})" for loc in rows}
    destinations = {key: label for key, label in sources.items() if principal.sees_location(int(key))}
    return sources, destinations


def new_form_token() -> str:
    return secrets.token_urlsafe(18)


def form_token(values: dict[str, str]) -> str:
    """The one-off token a creating form carries (hidden ``form_token``), read back or a new one."""
    values["form_token"] = values.get("form_token", "").strip()[:64] or new_form_token()
    return values["form_token"]


def _form_key(name: str, values: dict[str, str]) -> str:
    return f"web:{name}:{values['form_token']}"


async def claim_form(request: Request, session: AsyncSession, principal: Principal, name: str,
                     values: dict[str, str]) -> str | None:
    """Claim a creating form's token as an idempotency key (as the receive form does): None when the form is
    new (create, then :func:`remember_form`), or the page the first submission of the same form redirected
    to (a double tap, a reload: nothing more is created). Raises ``IdempotencyKeyReused`` when the token
    came with other values. A refused submission (4xx) rolls the claim back, so the form can be corrected."""
    body = orjson.dumps({k: v for k, v in values.items() if k != "form_token"}, option=orjson.OPT_SORT_KEYS)
    replay = await idempotency.claim_key(session, principal=principal.idempotency_scope, key=_form_key(name, values),
                                         request_hash=idempotency.fingerprint("POST", request.url.path, body))
    return None if replay is None else str(replay[1]["location"])


async def remember_form(session: AsyncSession, principal: Principal, name: str, values: dict[str, str],
                        url: str) -> None:
    await idempotency.store_response(session, principal=principal.idempotency_scope, key=_form_key(name, values),
                                     status_code=303, body={"location": url})


FORM_SENT_WITH_OTHER_VALUES = N_("This form was already sent with other details, and nothing more was created. "
                                 "Check the list, then send what is still missing.")


async def replay_or_refusal(request: Request, session: AsyncSession, principal: Principal, name: str,
                            values: dict[str, str], show_form: Callable[..., Awaitable[Response]]
                            ) -> Response | None:
    """:func:`claim_form` as a page answers it: None for a new form (go on and create), the first submission's
    page for a repeat (303), or the form again (409, a fresh token) when the token came with other values.
    ``show_form(status_code=, errors=)`` draws the form."""
    try:
        replay = await claim_form(request, session, principal, name, values)
    except IdempotencyKeyReused:
        values["form_token"] = new_form_token()
        return await show_form(status_code=409, errors={"form": t(request, FORM_SENT_WITH_OTHER_VALUES)})
    return None if replay is None else RedirectResponse(replay, status_code=303)


def t(request: Request, message: str, **values: Any) -> str:
    """``message`` in the reader's language, formatted with ``values``."""
    text = translations_for(request_locale(request)).gettext(message)
    return text % values if values else text


def digits(value: object) -> bool:
    """Whether ``value`` is made of the digits 0-9 only (``str.isdigit`` also takes "²" and "①", which
    ``int`` refuses)."""
    text = str(value)
    return text.isascii() and text.isdigit()


def whole_number(value: str | None) -> int | None:
    """A non-negative whole number typed into a form, or None when it is not one."""
    value = (value or "").strip()
    return int(value) if digits(value) else None


def parse_lines(request: Request, text: str) -> tuple[list[tuple[str, int]], str | None]:
    """``SKU QUANTITY`` per line (``=``, ``,`` or ``;`` also separate them) → lines, or a message saying
    which line cannot be read."""
    lines = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw)
        if match is None:
            return [], t(request, N_("Line %(number)s is not “SKU quantity”: %(text)s"), number=number,
                         text=raw.strip()[:80])
        lines.append((match["sku"], int(match["quantity"])))
    if not lines:
        return [], t(request, N_("Enter at least one line."))
    if len(lines) > MAX_FORM_LINES:
        return [], t(request, N_("At most %(limit)s lines at a time."), limit=MAX_FORM_LINES)
    return lines, None


def quantity_lines(request: Request, form, field: str, errors: dict[str, str]) -> list[tuple[str, int]]:
    """Paired ``sku`` / ``field`` inputs of a table form → (sku, quantity); a bad cell gets an error under
    ``{field}-{row}``. Blank cells are left out."""
    lines = []
    for i, (sku, raw) in enumerate(zip(form.getlist("sku"), form.getlist(field), strict=False)):
        if not str(raw).strip():
            continue
        quantity = whole_number(str(raw))
        if quantity is None:
            errors[f"{field}-{i}"] = t(request, N_("Enter a whole number, 0 or more."))
        else:
            lines.append((str(sku), quantity))
    return lines


def error_message(request: Request, exc: DomainError) -> str:
    """A domain error as a sentence for the page, in the reader's language where we know the case."""
    from .error_text import describe  # it builds on this module's t()

    ext = exc.extensions
    if isinstance(exc, WrongState):
        known = _WRONG_STATE.get((ext.get("entity"), ext.get("action")))
        return t(request, known) if known else describe(request, exc)
    if isinstance(exc, InvalidInput):
        if ext.get("unknown_skus"):
            return t(request, N_("Unknown SKU: %(skus)s"), skus=", ".join(ext["unknown_skus"][:10]))
        if ext.get("allowed") is not None and ext.get("sku"):
            return t(request, N_("At most %(allowed)s of %(sku)s."), allowed=ext["allowed"], sku=ext["sku"])
        if ext.get("field") == "destination_location_id":
            return t(request, N_("Choose two different locations."))
        if ext.get("field") == "lines" and not ext.get("sku"):
            return t(request, N_("Enter at least one quantity."))
        if ext.get("field") == "skus":
            return t(request, N_("Nothing is stocked here yet: list the SKUs to count."))
    return describe(request, exc)


def field_of(exc: DomainError, default: str) -> str:
    return str(exc.extensions.get("field") or default)


async def filtered_list(request: Request, session: AsyncSession, principal: Principal, area: Area, *,
                        state: str, location_id: str, cursor: str | None, states, lister, template: str,
                        rows_key: str, page_size: int = 50):
    """A list page of transfers or count sheets filtered by state and location, with field errors."""
    from .deps import render
    from .paging import next_page_url

    errors: dict[str, str] = {}
    locations = await location_choices(session, principal)
    if state and state not in states:
        errors["state"] = N_("Choose a state from the list.")
    if location_id and location_id not in locations:
        errors["location_id"] = N_("Choose a location from the list.")
    rows, next_cursor = [], None
    if not errors:
        try:
            rows, next_cursor = await lister(
                session, state=state or None, location_id=int(location_id) if location_id else None,
                scope=principal.location_ids, cursor=cursor, limit=page_size)
        except InvalidInput as exc:
            errors[field_of(exc, "state")] = error_message(request, exc)
    return render(request, template, {
        "area": area, rows_key: rows, "filters": {"state": state, "location_id": location_id},
        "errors": errors, "states": states, "locations": locations,
        "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)
