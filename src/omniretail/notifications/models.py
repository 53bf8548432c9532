"""The delivery log (one row per message owed to a recipient) and customers' notification preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime


class NotificationDelivery(IdMixin, Base):
    """One message to one recipient for one outbox event: what was rendered, and what became of it.

    Unique per (event, recipient, template): a redelivered outbox event finds its rows and sends nothing again.
    Status: ``pending`` (to send) → ``sent``; ``failed`` (retried at ``next_attempt_at``) → ``parked``
    (gave up); ``skipped`` (opted out, or no address) is logged too. ``lease_until`` marks a send in progress.
    """

    __tablename__ = "notification_delivery"

    event_id: Mapped[int] = mapped_column(BigInteger)
    template: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # email | sms | none
    recipient: Mapped[str] = mapped_column(String(254))
    locale: Mapped[str] = mapped_column(String(10))
    order_ref: Mapped[str] = mapped_column(String(64))  # the payload's order_id
    order_number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(BigInteger)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))
    provider: Mapped[str | None] = mapped_column(String(40))
    provider_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "template"),
        Index("ix_notification_delivery_order_ref", "order_ref"),
        Index("ix_notification_delivery_due", "next_attempt_at",
              sqlite_where=text("status IN ('pending', 'failed')"),
              postgresql_where=text("status IN ('pending', 'failed')")),
    )


class NotificationPreference(IdMixin, TimestampMixin, Base):
    """How a customer wants to hear from us. ``customer_id`` is the customers package's id (no foreign key:
    that table lives in another package's migration)."""

    __tablename__ = "notification_preference"

    customer_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    channels: Mapped[list[Any]] = mapped_column(JSONType)  # ["email"], ["sms"], ["email", "sms"], []
    opted_out: Mapped[list[Any]] = mapped_column(JSONType)  # template names the customer does not want
    locale: Mapped[str | None] = mapped_column(String(10))
