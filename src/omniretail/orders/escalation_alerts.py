"""Who hears of a store order running late: the ``orders.store_alert`` consumer that emails the store's
managers and the back office when the promise clock (``promise.escalate_due``) announces ``late``.

* ``late``: one ``store_order_late`` email (``notifications/staff.py``) to every active manager responsible for
  the store (their location scope includes it, or they have none: every store) in their own language, and to
  the back office (``settings.backoffice_alert_email``; the active owners while it is unset) in the default
  one. The link goes to the order's back-office page on ``settings.backoffice_url``.
* ``due_soon`` (and the other kinds: new work, a curbside arrival): no email — the store's queue already
  shows them to its associates.
* A fulfilment order that got ready (or was dispatched, cancelled) before the alert was consumed is no longer
  late: nobody is emailed.

Every message is logged in the notifications delivery log and sent after commit. Idempotent: ``escalate_due``
raises each level of a fulfilment order once (one event per fulfilment order and level), and deliveries are
unique per (event, recipient, template) — a redelivered event sends nothing new.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth import service as auth_service
from omniretail.auth.permissions import Role
from omniretail.locations.models import Location
from omniretail.notifications import delivery
from omniretail.notifications.staff import STORE_ORDER_LATE, LateOrder, StaffRecipient, queue_staff_message
from omniretail.notifications.tasks import senders_of
from omniretail.platform.config import Settings
from omniretail.platform.jobs import Event, Undeliverable, handles

from .models import FulfilmentOrder, Order
from .promise import LEVELS, NOT_READY
from .timeline import STORE_ALERT

LATE = LEVELS[2]
FULFILMENT, ORDERS, LOCATIONS = FulfilmentOrder.__table__, Order.__table__, Location.__table__
_NOT_READY = frozenset(s.value for s in NOT_READY)


def order_url(settings: Settings, order_id: int) -> str:
    """The order's back-office page (relative while ``backoffice_url`` is unset)."""
    return f"{(settings.backoffice_url or '').rstrip('/')}/backoffice/orders/{order_id}"


async def recipients_for(session: AsyncSession, location_id: int, settings: Settings) -> list[StaffRecipient]:
    """The store's managers, then the back office; one entry per address."""
    managers = await auth_service.staff_to_alert(session, location_id)
    people = [StaffRecipient(m.email, m.locale) for m in managers]
    if settings.backoffice_alert_email:
        people.append(StaffRecipient(settings.backoffice_alert_email, settings.default_locale))
    else:
        owners = await auth_service.staff_to_alert(session, None, roles=(Role.OWNER,))
        people += [StaffRecipient(o.email, o.locale) for o in owners]
    return people


@handles(STORE_ALERT)
async def alert_staff(session: AsyncSession, event: Event) -> None:
    """Email a late store order to its managers and the back office (see the module docstring)."""
    payload = event.payload
    if payload.get("kind") != LATE:
        return
    fo_id = payload.get("fulfilment_order_id")
    if not isinstance(fo_id, int):
        raise Undeliverable(f"{STORE_ALERT} late alert without a fulfilment_order_id: {payload!r}")
    row = (await session.execute(
        select(FULFILMENT.c.state, FULFILMENT.c.location_id, FULFILMENT.c.delivery_method,
               FULFILMENT.c.promised_by, ORDERS.c.id.label("order_id"), ORDERS.c.number, ORDERS.c.contact,
               LOCATIONS.c.name.label("store"), LOCATIONS.c.timezone)
        .select_from(FULFILMENT.join(ORDERS, ORDERS.c.id == FULFILMENT.c.order_id)
                     .join(LOCATIONS, LOCATIONS.c.id == FULFILMENT.c.location_id))
        .where(FULFILMENT.c.id == fo_id))).first()
    if row is None or row.state not in _NOT_READY or row.promised_by is None:
        return  # gone, or ready (dispatched, cancelled) before anyone could be told: no longer late
    settings = event.context.settings
    data = LateOrder(
        order_id=row.order_id, order_number=row.number, fulfilment_order_id=fo_id, store=row.store,
        timezone=row.timezone or "UTC", customer_name=(row.contact or {}).get("name") or "",
        delivery_method=row.delivery_method, promised_by=row.promised_by,
        minutes_late=max(0, -int(payload.get("minutes_left") or 0)), order_url=order_url(settings, row.order_id))
    queued = await queue_staff_message(session, event_id=event.id, template=STORE_ORDER_LATE, data=data,
                                       recipients=await recipients_for(session, row.location_id, settings))
    senders = senders_of(event.context)
    for delivery_id in queued:
        event.after_commit(partial(delivery.send_delivery, event.context.db, senders, delivery_id))
