"""The "receive goods" form, in the back office (``/backoffice/stock/receive``, any visible location) and in
the store app (``/store/{store_id}/receive``, that store only): the lines of a supplier's delivery — scanned
barcodes or typed "SKU quantity" lines — its delivery note number and an optional note.

Reading the text is this module's; what a line may name and how the stock moves is
``inventory.receiving``'s. The form carries a one-off token used as an idempotency key: a second submission of
the same form (a double click, a reload after the redirect was lost) receives nothing more and lands on the
same confirmation.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.inventory import receiving
from omniretail.platform import idempotency
from omniretail.platform.errors import IdempotencyKeyReused, InvalidInput, NotFound
from omniretail.pos import lookup

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .i18n import N_
from .stock_forms import (
    BACKOFFICE,
    Area,
    InventoryWriter,
    digits,
    error_message,
    location_choices,
    store_area,
    t,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_LINES = 2000  # one line per scanned unit adds up quickly
FIELDS = ("location_id", "delivery_note", "lines", "note", "form_token")
_LINE = re.compile(r"^\s*(?P<code>[^\s=,;]+)(?:\s*[\s=,;]\s*(?P<quantity>\S+))?\s*$")
_WHOLE = re.compile(r"^[+-]?\d{1,9}$")


@router.get("/backoffice/stock/receive")
async def receive_form(request: Request, session: SessionDep, principal: InventoryWriter,
                       location_id: str = "") -> Response:
    return await _form(request, session, principal, BACKOFFICE, {"location_id": location_id})


@router.get("/store/{store_id}/receive")
async def store_receive_form(request: Request, session: SessionDep, principal: StoreWorker,
                             store_id: int) -> Response:
    area = await store_area(session, principal, store_id)
    return await _form(request, session, principal, area, {"location_id": str(store_id)})


@router.post("/backoffice/stock/receive", dependencies=[CsrfChecked])
async def receive(request: Request, session: SessionDep, principal: InventoryWriter) -> Response:
    return await _receive(request, session, principal, BACKOFFICE)


@router.post("/store/{store_id}/receive", dependencies=[CsrfChecked])
async def store_receive(request: Request, session: SessionDep, principal: StoreWorker, store_id: int) -> Response:
    return await _receive(request, session, principal, await store_area(session, principal, store_id))


async def _form(request: Request, session: AsyncSession, principal: Principal, area: Area, values: dict[str, str],
                *, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    values.setdefault("form_token", _new_token())
    return render(request, "stock/receive.html", {
        "area": area, "values": values, "errors": errors or {},
        "locations": await location_choices(session, principal) if area.store is None else {},
    }, status_code=status_code)


def _new_token() -> str:
    return secrets.token_urlsafe(18)


def read_lines(request: Request, text: str) -> tuple[list[tuple[str, int]], list[int], str | None]:
    """The delivery's lines — ``CODE QUANTITY``, or ``CODE`` alone for one scanned unit — with the number of the
    text line each came from, or a message saying which line cannot be read."""
    lines, numbers = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        match = _LINE.match(raw)
        if match is None:
            return [], [], t(request, N_("Line %(number)s is not “SKU quantity”: %(text)s"), number=number,
                             text=raw.strip()[:80])
        quantity = match["quantity"]
        if quantity is not None and not _WHOLE.match(quantity):
            return [], [], t(request, N_("Line %(number)s: the quantity must be a whole number above 0."),
                             number=number)
        lines.append((match["code"], 1 if quantity is None else int(quantity)))
        numbers.append(number)
    if not lines:
        return [], [], t(request, N_("Enter at least one line."))
    if len(lines) > MAX_LINES:
        return [], [], t(request, N_("At most %(limit)s lines at a time."), limit=MAX_LINES)
    return lines, numbers, None


def _lines_message(request: Request, exc: InvalidInput, numbers: list[int], lines: list[tuple[str, int]]) -> str:
    """A refusal of some lines, naming the text lines (first five) to fix."""
    ext = exc.extensions
    if ext.get("unknown_lines"):
        return " ".join(t(request, N_("Line %(number)s: there is no product with the SKU or GTIN %(code)s."),
                          number=numbers[i - 1], code=lines[i - 1][0]) for i in ext["unknown_lines"][:5])
    if ext.get("bad_quantity_lines"):
        return " ".join(t(request, N_("Line %(number)s: the quantity must be a whole number above 0."),
                          number=numbers[i - 1]) for i in ext["bad_quantity_lines"][:5])
    return error_message(request, exc)


def _fingerprint(request: Request, values: dict[str, str]) -> str:
    body = orjson.dumps({k: values[k] for k in FIELDS if k != "form_token"}, option=orjson.OPT_SORT_KEYS)
    return idempotency.fingerprint("POST", request.url.path, body)


def _done_url(area: Area, location_id: int, delivery_note: str, skus: list[str]) -> str:
    if area.store is not None:
        query = {"sku": skus[0]} if len(skus) == 1 else {}
        return f"{area.base}/stock?{urlencode({**query, 'done': 'received'})}"
    return "/backoffice/stock/movements?" + urlencode({
        "location_id": location_id, "reference_type": receiving.DELIVERY_NOTE, "reference_id": delivery_note,
        "done": "received"})


async def _receive(request: Request, session: AsyncSession, principal: Principal, area: Area) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in FIELDS}
    if area.store_id is not None:
        values["location_id"] = str(area.store_id)
    values["form_token"] = values["form_token"].strip()[:64] or _new_token()
    errors: dict[str, str] = {}
    if not digits(values["location_id"]) or not principal.sees_location(int(values["location_id"])):
        errors["location_id"] = t(request, N_("Choose a location from the list."))
    if not values["delivery_note"].strip():
        errors["delivery_note"] = t(request, N_("Enter the number on the supplier's delivery note."))
    elif len(values["delivery_note"].strip()) > receiving.MAX_DELIVERY_NOTE:
        errors["delivery_note"] = t(request, N_("At most %(limit)s characters."), limit=receiving.MAX_DELIVERY_NOTE)
    if len(values["note"].strip()) > receiving.MAX_NOTE:
        errors["note"] = t(request, N_("At most %(limit)s characters."), limit=receiving.MAX_NOTE)
    lines, numbers, problem = read_lines(request, values["lines"])
    if problem:
        errors["lines"] = problem
    if errors:
        return await _form(request, session, principal, area, values, errors=errors, status_code=400)

    key = f"web:receive:{values['form_token']}"
    try:
        replay = await idempotency.claim_key(session, principal=principal.idempotency_scope, key=key,
                                             request_hash=_fingerprint(request, values))
    except IdempotencyKeyReused:
        errors["form"] = t(request, N_("This form was already sent with other lines, and nothing more was "
                                       "received. Check the stock, then enter what is still missing here."))
        values["form_token"] = _new_token()
        return await _form(request, session, principal, area, values, errors=errors, status_code=409)
    if replay is not None:  # the same form sent again: nothing more is received
        return RedirectResponse(replay[1]["location"], status_code=303)
    location_id = int(values["location_id"])
    # a scanned code as the till reads it: a GTIN in any padding, a SKU in another case (unknown: kept as typed)
    skus = await lookup.resolve_codes(session, [code for code, _ in lines])
    try:
        async with session.begin_nested():
            movements = await receiving.receive_delivery(
                session, location_id=location_id, lines=[(skus.get(code, code), q) for code, q in lines],
                delivery_note=values["delivery_note"], note=values["note"], actor=principal.label,
                scope=principal.location_ids)
    except NotFound:
        errors["location_id"] = t(request, N_("Choose a location from the list."))
    except InvalidInput as exc:
        field = str(exc.extensions.get("field") or "lines")
        errors[field if field in FIELDS else "lines"] = _lines_message(request, exc, numbers, lines)
    if errors:
        return await _form(request, session, principal, area, values, errors=errors, status_code=400)
    url = _done_url(area, location_id, values["delivery_note"].strip(), sorted({m.sku for m in movements}))
    await idempotency.store_response(session, principal=principal.idempotency_scope, key=key, status_code=303,
                                     body={"location": url})
    return RedirectResponse(url, status_code=303)

