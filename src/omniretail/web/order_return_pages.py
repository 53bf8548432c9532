"""Back office: a return's next step from its order's page — the goods received (a parcel at the warehouse),
each line inspected (condition and disposition: restocked units go back on hand), the refund (by the way it was
paid, or as store credit or a voucher; a marketplace order's through the marketplace), or the return closed with
a reason. A settled return whose replacement was cancelled since is refunded what it still owes.

Each step posts to the returns services, which check the move (a return another user moved meanwhile is a 409
with the message next to its form); a store counter takes goods back in one step instead (store_return_pages).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from omniretail.api.deps import SessionDep
from omniretail.orders import refunds, returns, returns_reads
from omniretail.orders.returns_schemas import LineInspection, RefundCreate, ReturnInspect
from omniretail.orders.returns_states import ReturnState
from omniretail.platform.errors import NotFound

from .csrf import CsrfChecked
from .deps import PageRoute
from .i18n import N_
from .order_labels import BACK_OFFICE_REFUNDS, CONDITIONS, DISPOSITIONS
from .order_pages import OrdersWriter, _attempt, _detail
from .stock_forms import digits, t

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MOVES = ("receive", "inspect", "refund", "close")


@router.post("/backoffice/orders/{order_id}/returns/{return_id}/{move}", dependencies=[CsrfChecked])
async def move_return(request: Request, session: SessionDep, principal: OrdersWriter, order_id: int,
                      return_id: int, move: str) -> Response:
    ret = await returns_reads.get_return(session, return_id, principal=principal)
    if ret.order_id != order_id or move not in MOVES:
        raise NotFound("there is no such page")
    form = await request.form()
    prefix = f"ret{return_id}-"
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    actor = principal.label
    action: Any
    if move == "receive":
        raw = values[prefix + "location_id"] = str(form.get(prefix + "location_id", "")).strip()
        location_id = int(raw) if digits(raw) else None
        if location_id is None:
            errors[prefix + "location_id"] = t(request, N_("Choose where the goods arrived."))
        action = lambda: returns.receive_return(session, return_id, location_id=location_id, order_number=None,
                                                principal=principal, actor=actor)
    elif move == "inspect":
        for line in ret.lines:
            for name, known in (("condition", CONDITIONS), ("disposition", DISPOSITIONS)):
                key = f"{prefix}{name}-{line.id}"
                if (values.setdefault(key, str(form.get(key, "")))) not in known:
                    errors[key] = t(request, N_("Choose from the list."))
        action = lambda: returns.inspect_return(session, return_id, principal=principal, actor=actor, data=ReturnInspect(
            lines=[LineInspection(return_line_id=line.id, condition=values[f"{prefix}condition-{line.id}"],
                                  disposition=values[f"{prefix}disposition-{line.id}"]) for line in ret.lines]))
    elif move == "refund":
        method = values[prefix + "method"] = str(form.get(prefix + "method", ""))
        amount = values[prefix + "amount"] = str(form.get(prefix + "amount", "")).strip()
        shipping = form.get(prefix + "include_shipping") == "1"
        values[prefix + "include_shipping"] = "1" if shipping else ""
        data = None
        if method not in BACK_OFFICE_REFUNDS:
            errors[prefix + "method"] = t(request, N_("Choose from the list."))
        else:
            try:
                data = RefundCreate(method=method, amount=amount or None, include_shipping=shipping)
            except ValidationError:
                errors[prefix + "amount"] = t(request, N_("Enter an amount such as 12.50, or leave it empty to "
                                                          "refund everything owed."))
        action = lambda: refunds.refund_return(session, return_id, data=data, principal=principal, actor=actor)
    else:
        reason = values[prefix + "reason"] = str(form.get(prefix + "reason", "")).strip()
        if not reason:
            errors[prefix + "reason"] = t(request, N_("Say why the return is closed."))
        action = lambda: returns.end_return(session, return_id, ReturnState.CLOSED, reason=reason[:500],
                                            principal=principal, actor=actor)
    if errors:
        return await _detail(request, session, principal, order_id, errors=errors, values=values, status_code=400)
    return await _attempt(request, session, principal, order_id, f"{prefix}form", values, action, f"return_{move}")
