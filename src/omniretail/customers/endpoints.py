"""``/customers``: search, fetch, merge and unmerge profiles (staff)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.pagination import Page

from . import service
from .schemas import (
    CustomerDetailRead,
    CustomerIdentityRead,
    CustomerMergeCreate,
    CustomerMergeRead,
    CustomerRead,
    CustomerUpdate,
)

router = APIRouter(prefix="/customers", tags=["customers"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("customers:read")]
Writer = Annotated[Principal, require("customers:write")]


@router.get("", summary="Search customers")
async def list_customers(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    q: Annotated[str | None, Query(description="Part of the name, e-mail or phone")] = None,
    email: Annotated[str | None, Query(description="Exact e-mail (compared normalised)")] = None,
    phone: Annotated[str | None, Query(description="Phone in any format (compared as E.164)")] = None,
    include_merged: bool = False,
) -> Page[CustomerRead]:
    rows, next_cursor = await service.list_customers(
        session, q=q, email=email, phone=phone, include_merged=include_merged, cursor=params.cursor,
        limit=params.limit, sort=params.sort)
    return Page(items=[CustomerRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/{customer_id}", summary="Fetch a customer with their channel identities")
async def get_customer(session: SessionDep, principal: Reader, customer_id: int) -> CustomerDetailRead:
    customer = await service.get_customer(session, customer_id)
    identities = await service.identities_of(session, customer_id)
    return CustomerDetailRead(
        **CustomerRead.model_validate(customer).model_dump(),
        identities=[CustomerIdentityRead.model_validate(i) for i in identities],
        order_count=await service.order_count(session, customer_id))


@router.patch("/{customer_id}", summary="Correct a profile's name or language, or record a marketing answer")
async def update_customer(session: SessionDep, principal: Writer, customer_id: int,
                          data: CustomerUpdate) -> CustomerRead:
    customer = await service.update_customer(session, customer_id, changes=data.model_dump(exclude_unset=True,
                                                                                           exclude_none=True))
    return CustomerRead.model_validate(customer)


@router.get("/{customer_id}/merges", summary="Merges this customer took part in")
async def list_merges(session: SessionDep, principal: Reader, customer_id: int) -> list[CustomerMergeRead]:
    await service.get_customer(session, customer_id)
    return [CustomerMergeRead.model_validate(m) for m in await service.merges_of(session, customer_id)]


@router.post("/{customer_id}/merge", status_code=status.HTTP_201_CREATED,
             summary="Merge another profile into this one (identities and orders move here)")
async def merge_customer(session: SessionDep, principal: Writer, customer_id: int,
                         data: CustomerMergeCreate) -> CustomerMergeRead:
    merge = await service.merge_customers(session, target_id=customer_id, source_id=data.source_customer_id,
                                          actor=principal.label, reason=data.reason)
    return CustomerMergeRead.model_validate(merge)


@router.post("/merges/{merge_id}/unmerge", summary="Undo a merge: the merged profile comes back")
async def unmerge_customer(session: SessionDep, principal: Writer, merge_id: int) -> CustomerMergeRead:
    merge = await service.unmerge_customers(session, merge_id=merge_id, actor=principal.label)
    return CustomerMergeRead.model_validate(merge)
