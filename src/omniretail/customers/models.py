"""Customer profiles, the identities channels know them by, and the merges staff made between profiles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime


class Customer(IdMixin, TimestampMixin, Base):
    """One person. ``email`` is lower-cased and trimmed, ``phone`` is E.164; both are what matching compares.
    A profile merged into another keeps its row (``merged_into_id``) so the merge can be undone."""

    __tablename__ = "customer"

    name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    locale: Mapped[str] = mapped_column(String(10), default="en", server_default="en")
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    merged_into_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("customer.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_customer_email", "email"),
        Index("ix_customer_phone", "phone"),
    )


class CustomerIdentity(IdMixin, Base):
    """How one channel knows a customer: its account id, or ``email:…``/``phone:…`` when it has none.
    Orders remember the identity they came through, so they follow it through merges and unmerges."""

    __tablename__ = "customer_identity"

    customer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("customer.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("channel.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_customer_identity_customer", "customer_id"),
    )


class CustomerMerge(IdMixin, Base):
    """A merge of ``source`` into ``target``: what moved, so an unmerge can put it back."""

    __tablename__ = "customer_merge"

    source_customer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("customer.id", ondelete="CASCADE"))
    target_customer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("customer.id", ondelete="CASCADE"))
    identity_ids: Mapped[list[Any]] = mapped_column(JSONType)
    order_ids: Mapped[list[Any]] = mapped_column(JSONType)
    # the source's fields before the merge (the target may have taken a missing email/phone from it)
    target_before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    merged_by: Mapped[str] = mapped_column(String(300))
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    unmerged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unmerged_by: Mapped[str | None] = mapped_column(String(300))

    __table_args__ = (
        Index("ix_customer_merge_source", "source_customer_id"),
        Index("ix_customer_merge_target", "target_customer_id"),
    )
