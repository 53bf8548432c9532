from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from omniretail.api.deps import ListParamsDep, SessionDep, require
from omniretail.api.routing import READ_ONLY, TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.pagination import Page

from . import service
from .schemas import (
    DeliveryStatus,
    NotificationDeliveryDetail,
    NotificationDeliveryRead,
    NotificationPreferenceRead,
    NotificationPreferenceUpdate,
    NotificationPreview,
    RenderedMessage,
    TemplateName,
)

router = APIRouter(prefix="/notifications", tags=["notifications"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("orders:read")]
Writer = Annotated[Principal, require("orders:write")]
CustomerReader = Annotated[Principal, require("customers:read")]
CustomerWriter = Annotated[Principal, require("customers:write")]


@router.get("", summary="The delivery log: every message owed to a customer and what became of it")
async def list_notifications(
    session: SessionDep, principal: Reader, params: ListParamsDep,
    status: DeliveryStatus | None = None, template: TemplateName | None = None,
    channel: Annotated[str | None, Query(description="email, sms or none")] = None,
    order_id: Annotated[str | None, Query(description="The order id the message is about")] = None,
    recipient: Annotated[str | None, Query(description="Email address or phone number (exact)")] = None,
    customer_id: int | None = None,
    event_id: Annotated[int | None, Query(description="The outbox event that asked for it")] = None,
) -> Page[NotificationDeliveryRead]:
    rows, next_cursor = await service.list_deliveries(
        session, status=status, template=template, channel=channel, order_ref=order_id, recipient=recipient,
        customer_id=customer_id, event_id=event_id, cursor=params.cursor, limit=params.limit, sort=params.sort,
        principal=principal,
    )
    return Page(items=[NotificationDeliveryRead.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/preview", summary="Render a template for a locale, with sample data or the data you send",
             openapi_extra=READ_ONLY)
async def preview_notification(principal: Reader, data: NotificationPreview) -> RenderedMessage:
    return service.preview(data)


@router.get("/preferences/{customer_id}", summary="How a customer wants to hear from us")
async def get_preferences(session: SessionDep, principal: CustomerReader,
                          customer_id: int) -> NotificationPreferenceRead:
    return await service.get_preferences(session, customer_id)


@router.put("/preferences/{customer_id}", summary="Set a customer's channels, opt-outs and language")
async def set_preferences(session: SessionDep, principal: CustomerWriter, customer_id: int,
                          data: NotificationPreferenceUpdate) -> NotificationPreferenceRead:
    return await service.set_preferences(session, customer_id, data=data)


@router.get("/{delivery_id}", summary="One message with its rendered text and HTML")
async def get_notification(session: SessionDep, principal: Reader,
                           delivery_id: int) -> NotificationDeliveryDetail:
    return NotificationDeliveryDetail.model_validate(await service.get_delivery(session, delivery_id,
                                                                                   principal=principal))


@router.post("/{delivery_id}/retry", summary="Send a failed or parked message again")
async def retry_notification(session: SessionDep, principal: Writer,
                             delivery_id: int) -> NotificationDeliveryRead:
    return NotificationDeliveryRead.model_validate(await service.requeue_delivery(session, delivery_id,
                                                                                   principal=principal))
