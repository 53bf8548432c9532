"""Notifications: turn an ``orders.notify`` payload into delivery rows, the delivery log, previews, preferences.

Queueing is transactional and idempotent: ``queue_notification`` renders the message and inserts one row per
recipient, unique per (event, recipient, template), in the transaction of the outbox event. Sending happens
after commit (``delivery.send_delivery``), so the database is never held open across an SMTP conversation.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform import clock
from omniretail.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from omniretail.platform.i18n import normalise_locale
from omniretail.platform.pagination import SortSpec, paginate

from . import templates
from .models import NotificationDelivery, NotificationPreference
from .samples import sample_data
from .schemas import (
    MANDATORY_TEMPLATES,
    REQUIRED_SECTION,
    CustomerContact,
    NotificationData,
    NotificationPreferenceRead,
    NotificationPreferenceUpdate,
    NotificationPreview,
    NotifyPayload,
    RenderedMessage,
)

# A pending row is sent right after commit; the retry job takes it only if that did not happen by then.
PENDING_GRACE = timedelta(seconds=60)
SORTS = SortSpec({"id": NotificationDelivery.id, "created_at": NotificationDelivery.created_at}, default="-id")

Target = tuple[str, str]  # (channel, address)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{5,30}$")


def _usable(address: str | None, pattern: re.Pattern[str]) -> str:
    """The address if it can be used as one (no spaces or line breaks smuggled in), else ""."""
    address = (address or "").strip()
    return address if pattern.match(address) else ""


def usable_email(address: str | None) -> str:
    """The address if it can be used as an email address, else ""."""
    return _usable(address, _EMAIL)


Skipped = tuple[Target, str]  # (channel, address), why nobody is sent the message


def plan_recipients(template: str, customer: CustomerContact,
                    preference: NotificationPreference | None) -> tuple[list[Target], Skipped | None]:
    """Who gets the message, on which channel; or why nobody does. Pure: the rules in one place.

    Without a preference: email if we have an address, else SMS. A preference picks the channels and may opt
    out of templates, except the mandatory ones (a cancellation is always told, on whatever channel reaches).
    """
    addresses = {"email": _usable(customer.email, _EMAIL), "sms": _usable(customer.phone, _PHONE)}
    if preference is not None:
        wanted = [c for c in preference.channels if c in addresses]
    else:
        wanted = ["email"] if addresses["email"] else ["sms"]
    mandatory = template in MANDATORY_TEMPLATES
    if preference is not None and template in (preference.opted_out or []) and not mandatory:
        channel = wanted[0] if wanted else "email"
        return [], ((channel, addresses[channel]), f"the customer opted out of {template} messages")
    targets = [(c, addresses[c]) for c in wanted if addresses[c]]
    if not targets and mandatory:
        targets = [(c, addresses[c]) for c in ("email", "sms") if addresses[c]][:1]
    if targets:
        return targets, None
    if wanted:
        missing = "email address" if wanted[0] == "email" else "phone number"
        return [], ((wanted[0], ""), f"no {missing} for the customer")
    return [], (("none", ""), "the customer chose no channel for optional messages")


async def get_preference_row(session: AsyncSession, customer_id: int | None) -> NotificationPreference | None:
    if customer_id is None:
        return None
    stmt = select(NotificationPreference).where(NotificationPreference.customer_id == customer_id)
    return await session.scalar(stmt)


async def queue_notification(session: AsyncSession, *, event_id: int, payload: NotifyPayload,
                             default_locale: str = "en") -> list[int]:
    """Render the message and log one delivery per recipient; returns the ids of the rows to send now."""
    data = payload.data
    preference = await get_preference_row(session, data.customer.id)
    chosen = preference.locale if preference else None  # the customer's own choice beats the order's
    locale = normalise_locale(chosen or payload.locale or default_locale)
    message = templates.render(payload.template, locale, data)
    targets, skipped = plan_recipients(payload.template, data.customer, preference)
    now = clock.now()
    common = {"event_id": event_id, "template": payload.template, "locale": locale,
              "order_ref": str(payload.order_id), "order_number": data.order_number,
              "customer_id": data.customer.id, "subject": message.subject[:300], "attempts": 0,
              "created_at": now}
    rows = [{**common, "channel": channel, "recipient": address, "status": "pending",
             "next_attempt_at": now + PENDING_GRACE,
             "body_text": message.text if channel == "email" else message.sms,
             "body_html": message.html if channel == "email" else None}
            for channel, address in targets]
    if skipped is not None:
        (channel, address), reason = skipped
        rows.append({**common, "channel": channel, "recipient": address, "status": "skipped", "error": reason,
                     "body_text": message.text if channel != "sms" else message.sms, "body_html": None,
                     "next_attempt_at": None})
    return await log_deliveries(session, rows)


async def log_deliveries(session: AsyncSession, rows: list[dict]) -> list[int]:
    """Insert delivery rows, each unique per (event, recipient, template): a row already logged (a redelivered
    event) is left alone. Returns the ids of the new pending rows, to send after commit."""
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    table = NotificationDelivery.__table__
    queued = []
    for row in rows:  # one statement each: ON CONFLICT … RETURNING reports only the rows it inserted
        stmt = (insert(table).values(**row)
                .on_conflict_do_nothing(index_elements=["event_id", "recipient", "template"])
                .returning(table.c.id, table.c.status))
        inserted = (await session.execute(stmt)).first()
        if inserted is not None and inserted.status == "pending":
            queued.append(inserted.id)
    return queued


# --- the delivery log -------------------------------------------------------------------------------------

async def list_deliveries(
    session: AsyncSession, *, status: str | None = None, template: str | None = None, channel: str | None = None,
    order_ref: str | None = None, recipient: str | None = None, customer_id: int | None = None,
    event_id: int | None = None, cursor: str | None = None, limit: int = 50, sort: str | None = None,
    principal: Principal | None = None,
) -> tuple[list[NotificationDelivery], str | None]:
    """The delivery log; a user limited to some channels or stores (``principal``) reads one order's at a time,
    of an order they may see (the messages hold customers' addresses and pickup codes)."""
    if _scoped(principal):
        if order_ref is None:
            raise PermissionDenied("you may read the messages of the orders you may see: name one (order_id)",
                                   field="order_id")
        await _order_visible(session, order_ref, principal)
    stmt = select(NotificationDelivery)
    filters = {NotificationDelivery.status: status, NotificationDelivery.template: template,
               NotificationDelivery.channel: channel, NotificationDelivery.order_ref: order_ref,
               NotificationDelivery.customer_id: customer_id, NotificationDelivery.event_id: event_id}
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if recipient:
        stmt = stmt.where(func.lower(NotificationDelivery.recipient) == recipient.strip().lower())
    return await paginate(session, stmt, id_column=NotificationDelivery.id, sort=SORTS, sort_value=sort,
                          cursor=cursor, limit=limit)


async def get_delivery(session: AsyncSession, delivery_id: int, *, principal: Principal | None = None
                       ) -> NotificationDelivery:
    """One message; NotFound for a message about an order ``principal`` may not see (orders' rule)."""
    row = await session.get(NotificationDelivery, delivery_id)
    if row is None:
        raise NotFound(f"notification {delivery_id} not found")
    if _scoped(principal):
        try:
            await _order_visible(session, row.order_ref, principal)
        except NotFound:
            raise NotFound(f"notification {delivery_id} not found") from None
    return row


def _scoped(principal: Principal | None) -> bool:
    return principal is not None and (principal.channel_ids is not None or principal.location_ids is not None)


async def _order_visible(session: AsyncSession, order_ref: str, principal: Principal) -> None:
    """NotFound unless the order a message is about is one ``principal`` may see."""
    from omniretail.orders import service as orders_service  # orders builds on this package's schemas

    try:
        order_id = int(order_ref)
    except (TypeError, ValueError):
        raise NotFound(f"order {order_ref} not found") from None
    await orders_service.visible_order(session, order_id, principal=principal)


async def requeue_delivery(session: AsyncSession, delivery_id: int, *, principal: Principal | None = None
                           ) -> NotificationDelivery:
    """Send a failed or parked message again (after fixing the address or the SMTP settings)."""
    row = await get_delivery(session, delivery_id, principal=principal)
    if row.status not in ("failed", "parked"):
        raise Conflict(f"notification {delivery_id} is {row.status}; only failed or parked ones can be retried",
                       status_now=row.status)
    await session.execute(update(NotificationDelivery).where(NotificationDelivery.id == delivery_id)
                          .values(status="pending", attempts=0, next_attempt_at=clock.now(), lease_until=None))
    await session.refresh(row)
    return row


# --- previews and preferences -----------------------------------------------------------------------------

def preview(data: NotificationPreview) -> RenderedMessage:
    if data.data is None:
        order = sample_data(data.template, data.currency)
    else:
        try:
            order = NotificationData.model_validate(data.data)
        except ValidationError as exc:
            raise InvalidInput("data does not match the orders.notify payload", errors=[
                {"loc": ["data", *e["loc"]], "msg": e["msg"]} for e in exc.errors()]) from exc
        section = REQUIRED_SECTION.get(data.template)
        if section and getattr(order, section) is None:
            raise InvalidInput(f"template {data.template!r} needs data.{section}", field=f"data.{section}")
    return templates.render(data.template, data.locale, order)


async def get_preferences(session: AsyncSession, customer_id: int) -> NotificationPreferenceRead:
    row = await get_preference_row(session, customer_id)
    if row is None:
        return NotificationPreferenceRead(customer_id=customer_id)
    return NotificationPreferenceRead(customer_id=customer_id, channels=row.channels, opted_out=row.opted_out,
                                      locale=row.locale)


async def set_preferences(session: AsyncSession, customer_id: int, *,
                          data: NotificationPreferenceUpdate) -> NotificationPreferenceRead:
    row = await get_preference_row(session, customer_id)
    if row is None:
        row = NotificationPreference(customer_id=customer_id)
        session.add(row)
    row.channels = list(dict.fromkeys(data.channels))
    row.opted_out = sorted(set(data.opted_out))
    row.locale = data.locale
    await session.flush()
    return await get_preferences(session, customer_id)
