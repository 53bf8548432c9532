"""The register shift pages of the store's till: open with a cash float, pay in/out, close with a cash count
by denomination and the difference, and the shift's result (``pos.shifts``, ``pos.cash``)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.locations import service as locations_service
from omniretail.platform.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from omniretail.pos import cash, shifts
from omniretail.pos.schemas import CashMovementCreate, ShiftClose, ShiftOpen

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .i18n import N_, location_zone, use_zone
from .pos_pages import (
    PAYMENT_LABELS,
    _choose,
    _error_text,
    _location_id,
    _store,
    form_amount,
)
from .stock_forms import digits, t

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MOVEMENT_LABELS = {"sale": N_("Cash sale"), "refund": N_("Cash refund"), "paid_in": N_("Paid in"),
                   "paid_out": N_("Paid out")}
DONE_MESSAGES = {"opened": N_("The shift is open."), "closed": N_("The shift is closed."),
                 "cash": N_("The cash movement was recorded.")}


# --- the shift -----------------------------------------------------------------------------------------------

async def _shift_page(request: Request, session, principal: Principal, where: shifts.Till, *,
                      errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                      done: str = "", status_code: int = 200) -> Response:
    current = await shifts.current_shift(session, location_id=where.location_id, principal=principal)
    report = None if current is None else await shifts.shift_report(session, current.id, principal=principal)
    recent = await shifts.list_shifts(session, location_id=where.location_id, principal=principal, limit=10)
    use_zone(request, await location_zone(session, where.location_id))  # the store's local time
    return render(request, "pos/shift.html", {
        "where": where, "shift": current, "report": report, "recent": [s for s in recent if s.state == "closed"],
        "denominations": cash.DENOMINATIONS.get(where.currency, ()), "errors": errors or {},
        "values": values or {}, "done": DONE_MESSAGES.get(done), "movement_labels": MOVEMENT_LABELS,
        "payment_labels": PAYMENT_LABELS, "movement_id": uuid.uuid4().hex,
    }, status_code=status_code)


@router.get("/store/pos/shift")
async def shift_page(request: Request, session: SessionDep, principal: StoreWorker, location_id: str = "",
                     done: str = "") -> Response:
    store = await _store(session, principal, location_id)
    if store is None:
        return await _choose(request, session, principal, "/store/pos/shift", N_("Register shift"))
    where = await shifts.till(session, store.id, principal=principal)
    return await _shift_page(request, session, principal, where, done=done)


def _amount(request: Request, raw: str, key: str, errors: dict[str, str]) -> Decimal | None:
    amount = form_amount(raw)
    if amount is None:
        errors[key] = t(request, N_("Enter an amount such as 50 or 50.00."))
    return amount


async def _shift_action(request: Request, session, principal: Principal, action) -> Response:
    """Run one shift form: field errors and refusals on the shift page, success back to it with a notice."""
    form = await request.form()
    where = await shifts.till(session, await _location_id(session, principal, form), principal=principal)
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf_token"}
    errors: dict[str, str] = {}
    try:
        async with session.begin_nested():
            done = await action(where, values, errors)
    except PermissionDenied:
        raise
    except DomainError as exc:
        key = str(exc.extensions.get("field") or "form")
        errors[key if key in values or key.startswith("den-") else "form"] = _error_text(request, exc)
        done = None
    if done is None:
        return await _shift_page(request, session, principal, where, errors=errors, values=values,
                                 status_code=409 if "form" in errors else 400)
    return RedirectResponse(done, status_code=303)


@router.post("/store/pos/shift/open", dependencies=[CsrfChecked])
async def open_shift(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    async def action(where, values, errors):
        amount = _amount(request, values.get("opening_float", ""), "opening_float", errors)
        if amount is None:
            return None
        try:
            await shifts.open_shift(session, data=ShiftOpen(location_id=where.location_id, opening_float=amount),
                                    principal=principal, actor=principal.label)
        except InvalidInput as exc:
            errors["opening_float"] = _error_text(request, exc)
            return None
        return f"/store/pos/shift?location_id={where.location_id}&done=opened"

    return await _shift_action(request, session, principal, action)


@router.post("/store/pos/shift/cash", dependencies=[CsrfChecked])
async def cash_movement(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    async def action(where, values, errors):
        kind = values.get("kind", "")
        if kind not in ("paid_in", "paid_out"):
            errors["kind"] = t(request, N_("Choose paid in or paid out."))
        amount = _amount(request, values.get("amount", ""), "amount", errors)
        if amount is not None and amount == 0:
            errors["amount"] = t(request, N_("Enter an amount more than zero."))
        if errors:
            return None
        shift = await shifts.current_shift(session, location_id=where.location_id, principal=principal)
        if shift is None:
            raise shifts.ShiftNotOpen("no open shift")
        try:
            await shifts.record_cash_movement(session, shift.id, data=CashMovementCreate(
                kind=kind, amount=amount, reason=values.get("reason", "")[:500],
                reference=values.get("movement_id") or None), principal=principal, actor=principal.label)
        except InvalidInput as exc:
            errors["amount"] = _error_text(request, exc)
            return None
        return f"/store/pos/shift?location_id={where.location_id}&done=cash"

    return await _shift_action(request, session, principal, action)


@router.post("/store/pos/shift/close", dependencies=[CsrfChecked])
async def close_shift(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    """Close with the count: note by note (any ``den-<face>`` filled in) or the total."""
    async def action(where, values, errors):
        pieces: dict[str, int] = {}
        for face in cash.DENOMINATIONS.get(where.currency, ()):
            raw = values.get(f"den-{face}", "")
            if raw and (not digits(raw) or int(raw) > cash.MAX_PIECES):
                errors[f"den-{face}"] = t(request, N_("Enter a whole number, 0 or more."))
            elif raw:
                pieces[face] = int(raw)
        total = None
        if not pieces and not errors:
            if not values.get("counted_cash"):
                errors["counted_cash"] = t(request, N_("Count the cash: note by note, or enter the total."))
                return None
            total = _amount(request, values["counted_cash"], "counted_cash", errors)
        if errors:
            return None
        shift_id = values.get("shift_id", "")
        if not digits(shift_id) or (await shifts.get_shift(session, int(shift_id), principal=principal)
                                      ).location_id != where.location_id:
            raise NotFound("there is no such shift")
        try:
            closed = await shifts.close_shift(session, int(shift_id), data=ShiftClose(
                counted_cash=total, denominations=pieces or None, note=values.get("note", "")[:500]),
                principal=principal, actor=principal.label)
        except InvalidInput as exc:
            errors["counted_cash"] = _error_text(request, exc)
            return None
        return f"/store/pos/shifts/{closed.id}?done=closed"

    return await _shift_action(request, session, principal, action)


@router.get("/store/pos/shifts/{shift_id}")
async def shift_result(request: Request, session: SessionDep, principal: StoreWorker, shift_id: int,
                       done: str = "") -> Response:
    """A shift's report: the float, cash taken and paid out, expected against counted, the difference."""
    report = await shifts.shift_report(session, shift_id, principal=principal)
    store = await locations_service.get_location(session, report.shift.location_id, principal=principal)
    return render(request, "pos/shift_report.html", {
        "report": report, "shift": report.shift, "store": store, "done": DONE_MESSAGES.get(done),
        "movement_labels": MOVEMENT_LABELS, "payment_labels": PAYMENT_LABELS,
    })

