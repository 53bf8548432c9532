"""Sending logged deliveries: claim the row, talk to the provider outside any transaction, record the outcome.

A delivery is claimed with one conditional UPDATE (status pending/failed and no live lease), so the sender
right after commit, the periodic retry job and any number of workers never send one row twice at the same
time. The only duplicate left is a crash between the provider accepting the message and the outcome being
written; the Message-ID is stable per delivery, so mail systems can recognise the repeat.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import parseaddr

from sqlalchemy import and_, or_, select, update

from omniretail.platform import clock
from omniretail.platform.backoff import backoff_delay
from omniretail.platform.db import Database, unit_of_work

from .models import NotificationDelivery
from .senders import OutgoingEmail, Senders, SendFailed

log = logging.getLogger("omniretail.notifications")

table = NotificationDelivery.__table__
SEND_LEASE = timedelta(minutes=2)
MAX_SEND_ATTEMPTS = 8
RETRY_BASE_S = 30.0
RETRY_CAP_S = 3600.0


def _claimable(now):
    return and_(table.c.status.in_(("pending", "failed")),
                or_(table.c.lease_until.is_(None), table.c.lease_until < now))


def message_id(delivery_id: int, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "omniretail.invalid"
    return f"<notification-{delivery_id}@{domain}>"


async def send_delivery(db: Database, senders: Senders, delivery_id: int, *,
                        max_attempts: int = MAX_SEND_ATTEMPTS) -> str | None:
    """Send one delivery if no one else is sending it; returns its new status (None: not ours to send)."""
    now = clock.now()
    async with unit_of_work(db) as session:
        row = (await session.execute(
            update(table).where(table.c.id == delivery_id, _claimable(now))
            .values(lease_until=now + SEND_LEASE, attempts=table.c.attempts + 1)
            .returning(table.c.channel, table.c.recipient, table.c.subject, table.c.body_text,
                       table.c.body_html, table.c.attempts)
        )).first()
    if row is None:
        return None
    provider = None
    try:
        if row.channel == "email":
            if senders.email is None:
                raise SendFailed("email is not configured: set OMNIRETAIL_SMTP_HOST (and _PORT, _FROM …)")
            provider = senders.email.provider
            provider_id = await senders.email.send(OutgoingEmail(
                to=row.recipient, subject=row.subject, text=row.body_text, html=row.body_html,
                message_id=message_id(delivery_id, senders.email.sender)))
        elif row.channel == "sms":
            if senders.sms is None:
                raise SendFailed("no SMS provider is configured (OMNIRETAIL_SMS_PROVIDER)")
            provider = senders.sms.provider
            provider_id = await senders.sms.send(to=row.recipient, text=row.body_text,
                                                 reference=f"notification-{delivery_id}")
        else:
            raise SendFailed(f"unknown channel {row.channel!r}", permanent=True)
    except SendFailed as exc:
        return await _record_failure(db, delivery_id, row.attempts, provider, exc, max_attempts)
    except Exception as exc:  # a sender bug must not leave the row leased and silent
        log.exception("notification %s: sender crashed", delivery_id)
        return await _record_failure(db, delivery_id, row.attempts, provider,
                                     SendFailed(f"{type(exc).__name__}: {exc}"), max_attempts)
    async with unit_of_work(db) as session:
        await session.execute(
            update(table).where(table.c.id == delivery_id)
            .values(status="sent", provider=provider, provider_id=provider_id[:200], sent_at=clock.now(),
                    error=None, lease_until=None, next_attempt_at=None)
        )
    return "sent"


async def _record_failure(db: Database, delivery_id: int, attempts: int, provider: str | None,
                          exc: SendFailed, max_attempts: int) -> str:
    now = clock.now()
    park = exc.permanent or attempts >= max_attempts
    status = "parked" if park else "failed"
    next_attempt = None if park else now + backoff_delay(attempts, base=RETRY_BASE_S, cap=RETRY_CAP_S)
    log.warning("notification %s %s (attempt %s): %s", delivery_id, status, attempts, exc)
    async with unit_of_work(db) as session:
        await session.execute(
            update(table).where(table.c.id == delivery_id)
            .values(status=status, provider=provider, error=str(exc)[:4000], lease_until=None,
                    next_attempt_at=next_attempt)
        )
    return status


async def retry_due_deliveries(db: Database, senders: Senders, *, limit: int = 100) -> dict[str, int]:
    """Send what is due: failed rows whose back-off has passed, and pending rows nobody sent after commit."""
    now = clock.now()
    async with unit_of_work(db, readonly=True) as session:
        ids = list((await session.scalars(
            select(table.c.id).where(_claimable(now), table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at, table.c.id).limit(limit)
        )).all())
    outcome: dict[str, int] = {}
    for delivery_id in ids:
        status = await send_delivery(db, senders, delivery_id)
        if status is not None:
            outcome[status] = outcome.get(status, 0) + 1
    return outcome
