"""Back office customers: search (name, email, phone), the profile (identities per channel, orders, merge
history) and the merge / unmerge actions, through the customers service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.customers import service as customers_service
from omniretail.orders import service as orders_service
from omniretail.platform.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

from .csrf import CsrfChecked
from .deps import PageRoute, render, signed_in
from .error_text import describe
from .i18n import N_
from .order_labels import ORDER_STATES
from .paging import next_page_url
from .stock_forms import digits, t

router = APIRouter(route_class=PageRoute, include_in_schema=False)
CustomersReader = Annotated[Principal, signed_in("customers:read")]
CustomersWriter = Annotated[Principal, signed_in("customers:write")]
PAGE_SIZE = 50
DONE_MESSAGES = {"merged": N_("The customers were merged."), "unmerged": N_("The merge was undone.")}


@router.get("/backoffice/customers")
async def customer_list(request: Request, session: SessionDep, principal: CustomersReader, q: str = "",
                        merged: str = "", cursor: str | None = None) -> Response:
    errors: dict[str, str] = {}
    customers, next_cursor = [], None
    try:
        customers, next_cursor = await customers_service.list_customers(
            session, q=q.strip() or None, include_merged=bool(merged), cursor=cursor, limit=PAGE_SIZE)
    except InvalidInput as exc:
        errors[str(exc.extensions.get("field") or "q")] = describe(request, exc)
    return render(request, "backoffice/customers.html", {
        "customers": customers, "filters": {"q": q, "merged": merged}, "errors": errors,
        "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


async def _profile(request: Request, session, principal: Principal, customer_id: int, *, done: str = "",
                   errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                   status_code: int = 200) -> Response:
    customer = await customers_service.get_customer(session, customer_id)
    identities = await customers_service.identities_of(session, customer_id)
    merges = await customers_service.merges_of(session, customer_id)
    orders, _ = await orders_service.list_orders(session, principal=principal, customer_id=customer_id, limit=50)
    channels, _ = await channels_service.list_channels(session, principal=principal, limit=500)
    return render(request, "backoffice/customer.html", {
        "customer": customer, "identities": identities, "merges": merges, "orders": orders,
        "channels": {c.id: c.name for c in channels}, "states": ORDER_STATES, "errors": errors or {},
        "values": values or {}, "done": DONE_MESSAGES.get(done), "writer": principal.can("customers:write"),
    }, status_code=status_code)


@router.get("/backoffice/customers/{customer_id}")
async def customer_profile(request: Request, session: SessionDep, principal: CustomersReader, customer_id: int,
                           done: str = "") -> Response:
    return await _profile(request, session, principal, customer_id, done=done)


@router.post("/backoffice/customers/{customer_id}/merge", dependencies=[CsrfChecked])
async def merge_into(request: Request, session: SessionDep, principal: CustomersWriter,
                     customer_id: int) -> Response:
    """Merge another customer (``source_customer_id``) into this one."""
    await customers_service.get_customer(session, customer_id)
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("source_customer_id", "reason")}
    errors: dict[str, str] = {}
    if not digits(values["source_customer_id"]):
        errors["source_customer_id"] = t(request, N_("Enter the number of the customer to merge into this one."))
    else:
        try:
            async with session.begin_nested():
                await customers_service.merge_customers(
                    session, target_id=customer_id, source_id=int(values["source_customer_id"]),
                    actor=principal.label, reason=values["reason"][:500])
        except PermissionDenied:
            raise
        except NotFound:
            errors["source_customer_id"] = t(request, N_("There is no customer with this number."))
        except (Conflict, InvalidInput) as exc:
            errors["source_customer_id"] = _merge_message(request, exc)
    if errors:
        return await _profile(request, session, principal, customer_id, errors=errors, values=values,
                              status_code=400)
    return RedirectResponse(f"/backoffice/customers/{customer_id}?done=merged", status_code=303)


def _merge_message(request: Request, exc: DomainError) -> str:
    if isinstance(exc, InvalidInput):
        return t(request, N_("A customer cannot be merged into itself."))
    if exc.extensions.get("merged_into_id") is not None:
        return t(request, N_("Customer %(id)s was already merged into customer %(into)s."),
                 id=exc.extensions.get("customer_id"), into=exc.extensions.get("merged_into_id"))
    return describe(request, exc)


@router.post("/backoffice/customers/{customer_id}/unmerge/{merge_id}", dependencies=[CsrfChecked])
async def unmerge(request: Request, session: SessionDep, principal: CustomersWriter, customer_id: int,
                  merge_id: int) -> Response:
    merge = await customers_service.get_merge(session, merge_id)
    if customer_id not in (merge.source_customer_id, merge.target_customer_id):
        raise NotFound(f"customer merge {merge_id} not found")
    try:
        async with session.begin_nested():
            await customers_service.unmerge_customers(session, merge_id=merge_id, actor=principal.label)
    except Conflict:
        return await _profile(request, session, principal, customer_id, status_code=409,
                              errors={f"merge-{merge_id}": t(request, N_("This merge was already undone."))})
    return RedirectResponse(f"/backoffice/customers/{customer_id}?done=unmerged", status_code=303)
