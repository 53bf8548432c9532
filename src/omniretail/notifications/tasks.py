"""The worker's side of notifications: the ``orders.notify`` consumer and the retry job."""

from __future__ import annotations

from functools import partial

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.jobs import Event, Undeliverable, WorkerContext, every, handles

from . import delivery, service
from .schemas import TOPIC, NotifyPayload
from .senders import Senders, build_senders

SENDERS = "notifications.senders"


def senders_of(context: WorkerContext) -> Senders:
    return context.resource(SENDERS, partial(build_senders, context.settings))


@handles(TOPIC)
async def notify_customer(session: AsyncSession, event: Event) -> None:
    """Render the message and log one delivery per recipient in the event's transaction; send after commit.

    Idempotent: deliveries are unique per (event, recipient, template), so a redelivered event queues nothing.
    """
    try:
        payload = NotifyPayload.model_validate(event.payload)
    except ValidationError as exc:
        raise Undeliverable(f"{TOPIC} payload does not validate: {exc}") from exc
    queued = await service.queue_notification(session, event_id=event.id, payload=payload,
                                              default_locale=event.context.settings.default_locale)
    senders = senders_of(event.context)
    for delivery_id in queued:
        event.after_commit(partial(delivery.send_delivery, event.context.db, senders, delivery_id))


@every(30, "notifications.retry_deliveries")
async def retry_deliveries(context: WorkerContext) -> None:
    """Resend failed messages whose back-off has passed, and pending ones a crash left unsent."""
    await delivery.retry_due_deliveries(context.db, senders_of(context))
