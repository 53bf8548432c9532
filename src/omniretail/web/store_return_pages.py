"""Returns at the store counter (``/store/returns``): find an order from any channel by an exact identifier
(order number, customer e-mail or phone, the channel's order id), choose the lines and units coming back, the
reason, condition and disposition of each, and the refund; one submission takes it back through the returns
services (``orders.store_returns.take_back_at_counter``), and the result page shows the return's state and
refunds. An associate works at their own store; a manager chooses the store.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.orders import returns_reads, store_returns
from omniretail.orders.returns_amounts import OverRefund
from omniretail.orders.returns_schemas import Condition, Disposition, RefundCreate, RefundMethod, ReturnReason
from omniretail.platform.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from omniretail.platform.money import minor_digits

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .error_text import describe, refundable
from .i18n import N_
from .order_labels import CONDITIONS, DISPOSITIONS, RETURN_STATES
from .pickup_pages import _stores, chosen_store
from .pos_pages import form_amount
from .stock_forms import digits, form_token, remember_form, replay_or_refusal, t, whole_number

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REASONS = {
    "damaged": N_("Damaged"), "defective": N_("Defective"), "wrong_item": N_("Wrong item"),
    "wrong_size": N_("Wrong size"), "not_as_described": N_("Not as described"),
    "changed_mind": N_("Changed their mind"), "arrived_late": N_("Arrived late"), "other": N_("Other"),
}
REFUND_METHODS = {"original_payment": N_("Original payment"), "cash": N_("Cash"), "card": N_("Card"),
                  "none": N_("No refund now")}
SEARCH_FIELDS = ("number", "email", "phone", "channel_id", "external_id")

assert set(REASONS) == {r.value for r in ReturnReason} and set(CONDITIONS) == {c.value for c in Condition}
assert set(DISPOSITIONS) == {d.value for d in Disposition}


async def _store_or_chooser(request: Request, session, principal: Principal, location_id: str):
    store = await chosen_store(session, principal, location_id)
    if store is None:
        return None, render(request, "store/choose_store.html", {
            "stores": await _stores(session, principal), "target": "/store/returns", "heading": N_("Returns")})
    return store, None


async def _channels(session, principal: Principal) -> dict[str, str]:
    rows, _ = await channels_service.list_channels(session, principal=principal, limit=200, sort="name")
    return {str(c.id): c.name for c in rows}


# --- find the order ------------------------------------------------------------------------------------------

@router.get("/store/returns")
async def find_order(request: Request, session: SessionDep, principal: StoreWorker, location_id: str = "",
                     number: str = "", email: str = "", phone: str = "", channel_id: str = "",
                     external_id: str = "") -> Response:
    store, chooser = await _store_or_chooser(request, session, principal, location_id)
    if chooser is not None:
        return chooser
    values = {"number": number.strip(), "email": email.strip(), "phone": phone.strip(),
              "channel_id": channel_id.strip(), "external_id": external_id.strip()}
    errors: dict[str, str] = {}
    found, searched = [], any(values[k] for k in ("number", "email", "phone", "external_id"))
    channels = await _channels(session, principal)
    if values["channel_id"] and values["channel_id"] not in channels:
        errors["channel_id"] = t(request, N_("Choose a channel from the list."))
    elif searched:
        try:
            found = await returns_reads.find_returnable_orders(
                session, principal=principal, number=values["number"] or None, email=values["email"] or None,
                phone=values["phone"] or None,
                channel_id=int(values["channel_id"]) if values["channel_id"] else None,
                external_id=values["external_id"] or None)
        except InvalidInput as exc:
            field = str(exc.extensions.get("field") or "number")
            errors[field if field in SEARCH_FIELDS else "number"] = (
                t(request, N_("Choose the channel the order id comes from.")) if field == "channel_id"
                else describe(request, exc))
    return render(request, "store/returns.html", {
        "store": store, "values": values, "errors": errors, "found": found, "searched": searched and not errors,
        "channels": channels, "state_labels": RETURN_STATES,
    }, status_code=400 if errors else 200)


# --- take it back ----------------------------------------------------------------------------------------

async def _returnable(session, principal: Principal, number: str):
    found = await returns_reads.find_returnable_orders(session, principal=principal, number=number)
    if len(found) != 1:
        raise NotFound(f"order {number} not found")
    return found[0]


async def _form(request: Request, session, principal: Principal, store, order, *, values=None, errors=None,
                status_code: int = 200) -> Response:
    return render(request, "store/return_new.html", {
        "store": store, "order": order, "values": values or {}, "errors": errors or {},
        "channels": await _channels(session, principal), "reasons": REASONS, "conditions": CONDITIONS,
        "dispositions": DISPOSITIONS, "methods": REFUND_METHODS,
    }, status_code=status_code)


@router.get("/store/returns/take-back")
async def take_back_form(request: Request, session: SessionDep, principal: StoreWorker, location_id: str = "",
                         number: str = "") -> Response:
    store, chooser = await _store_or_chooser(request, session, principal, location_id)
    if chooser is not None:
        return chooser
    if not number.strip():  # opened without an order: find it first
        return RedirectResponse(f"/store/returns?location_id={store.id}", status_code=303)
    order = await _returnable(session, principal, number)
    return await _form(request, session, principal, store, order, values={"form_token": form_token({})})


@router.post("/store/returns/take-back", dependencies=[CsrfChecked])
async def take_back(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    form = await request.form()
    store = await chosen_store(session, principal, str(form.get("location_id", "")))
    if store is None:
        raise NotFound("choose a store")
    order = await _returnable(session, principal, str(form.get("number", "")))
    values = {k: str(v) for k, v in form.multi_items() if k != "csrf_token"}
    form_token(values)
    errors: dict[str, str] = {}
    lines, index_of = _lines(request, form, order, errors)
    refund = _refund(request, form, order.currency, errors)
    if not lines and not errors:
        errors["lines"] = t(request, N_("Enter how many units of at least one line come back."))
    if errors:
        return await _form(request, session, principal, store, order, values=values, errors=errors,
                           status_code=400)
    # the form's one-off token: a second tap on "Take back" lands on the first return, with one refund
    answer = await replay_or_refusal(
        request, session, principal, "store-return", values,
        lambda **shown: _form(request, session, principal, store, order, values=values, **shown))
    if answer is not None:
        return answer
    try:
        async with session.begin_nested():
            return_id = await store_returns.take_back_at_counter(
                session, order.order_id, order_number=order.number, location_id=store.id, lines=lines,
                refund=refund, note=str(form.get("note", "")).strip()[:1000], principal=principal,
                actor=principal.label)
    except PermissionDenied:
        raise
    except DomainError as exc:
        _place_error(request, exc, index_of, errors, order.currency)
        return await _form(request, session, principal, store, order, values=values, errors=errors,
                           status_code=409 if exc.status == 409 else 400)
    url = f"/store/returns/{return_id}?location_id={store.id}&done=1"
    await remember_form(session, principal, "store-return", values, url)
    return RedirectResponse(url, status_code=303)


def _lines(request: Request, form, order, errors: dict[str, str]):
    """Per order line ``quantity-{i}``, ``reason-{i}``, ``condition-{i}``, ``disposition-{i}`` →
    counter lines (blank or 0 units: not coming back), and the form row of each."""
    lines, index_of = [], {}
    for i, line in enumerate(order.lines):
        raw = str(form.get(f"quantity-{i}", "")).strip()
        if not raw or raw == "0":
            continue
        quantity = whole_number(raw)
        if quantity is None:
            errors[f"quantity-{i}"] = t(request, N_("Enter a whole number, 0 or more."))
            continue
        if quantity > line.returnable:
            if line.returnable:
                errors[f"quantity-{i}"] = t(request, N_("At most %(allowed)s of %(sku)s can come back."),
                                            allowed=line.returnable, sku=line.sku)
            else:  # taken back meanwhile: the line has no field on the form any more
                errors["lines"] = t(request, N_("Nothing more of %(sku)s can come back."), sku=line.sku)
            continue
        choice = {}
        for name, options in (("reason", REASONS), ("condition", CONDITIONS), ("disposition", DISPOSITIONS)):
            value = str(form.get(f"{name}-{i}", ""))
            if value not in options:
                errors[f"{name}-{i}"] = t(request, N_("Choose from the list."))
            choice[name] = value
        if any(f"{name}-{i}" in errors for name in choice):
            continue
        index_of[line.order_line_id] = i
        lines.append(store_returns.CounterLine(
            order_line_id=line.order_line_id, quantity=quantity, reason=ReturnReason(choice["reason"]),
            condition=Condition(choice["condition"]), disposition=Disposition(choice["disposition"]),
            note=str(form.get(f"note-{i}", "")).strip()[:500]))
    return lines, index_of


def _refund(request: Request, form, currency: str, errors: dict[str, str]) -> RefundCreate | None:
    method = str(form.get("refund_method", ""))
    if method not in REFUND_METHODS:
        errors["refund_method"] = t(request, N_("Choose from the list."))
        return None
    if method == "none":
        return None
    raw = str(form.get("refund_amount", "")).strip()
    amount = None
    if raw:
        amount = form_amount(raw)  # read as the till reads amounts: no exponent, NaN or infinity
        if amount is None or amount <= 0 or amount.as_tuple().exponent < -minor_digits(currency):
            errors["refund_amount"] = t(request, N_("Enter an amount such as 12.50, or leave it empty to refund "
                                                    "everything owed."))
            return None
    return RefundCreate(amount=amount, method=RefundMethod(method), reason=str(form.get("note", "")).strip()[:500])


def _place_error(request: Request, exc: DomainError, index_of: dict[int, int], errors: dict[str, str],
                 currency: str) -> None:
    field = str(exc.extensions.get("field") or "")
    if isinstance(exc, OverRefund):
        errors["refund_amount"] = t(request, N_("At most %(amount)s can be refunded now."),
                                    amount=refundable(request, exc, currency))
    elif field == "amount":
        errors["refund_amount"] = describe(request, exc)
    elif field.startswith("lines.") and digits(field.split(".")[1]):
        rows = list(index_of.values())
        position = int(field.split(".")[1])
        errors[f"quantity-{rows[position]}" if position < len(rows) else "lines"] = describe(request, exc)
    elif field == "location_id":
        errors["form"] = t(request, N_("This store does not take returns."))
    else:
        errors["form"] = describe(request, exc)


# --- the result ------------------------------------------------------------------------------------------

@router.get("/store/returns/{return_id}")
async def return_result(request: Request, session: SessionDep, principal: StoreWorker, return_id: int,
                        location_id: str = "", done: str = "") -> Response:
    ret = await returns_reads.get_return(session, return_id, principal=principal)
    store = await chosen_store(session, principal, location_id or ret.location_id)
    return render(request, "store/return.html", {
        "store": store, "ret": ret, "done": bool(done), "state_labels": RETURN_STATES, "reasons": REASONS,
        "conditions": CONDITIONS, "dispositions": DISPOSITIONS, "methods": REFUND_METHODS,
    })
