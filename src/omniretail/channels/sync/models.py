"""The sync engine's tables: what each channel should show and what it acknowledged, and the bookkeeping around it.

* ``channel_listing`` — one row per (channel, variant): the channel's ids for it (``external``), the **desired**
  state (quantity, price, content hash, published) with a version bumped only when a value changes, the
  **acknowledged** state (what the channel confirmed, and the version it confirmed), and the delivery state
  (attempts, back-off, parked, lease). Due = ``desired_version > acked_version``, not parked, back-off over.
* ``channel_sync_pending`` — variants whose desired state must be recomputed (written by the outbox consumers,
  drained set-based by the engine; one row per variant however many changes arrive: the first coalescing step).
* ``channel_sync_log`` — per listing: what was sent, when, the answer, how long it took, the lag it closed.
* ``channel_sync_cursor`` — per channel and feed: where order / offer-event reading resumes.
* ``channel_rate_limit`` — per channel and bucket: the token bucket shared by every worker (PostgreSQL).
* ``channel_delivery`` — messages owed to a channel outside the listing state: signed webhooks, fulfilment
  status and tracking numbers; retried with back-off, parked after too many attempts (the delivery log).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, BigIntPK, IdMixin, JSONType, UTCDateTime

DUE = "desired_version > acked_version AND parked = false"


class ChannelListing(IdMixin, Base):
    __tablename__ = "channel_listing"

    channel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("channel.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    # the channel's ids: {"offer_id": …} (Allegro), {"inventory_item_id", "location_id", "variant_id",
    # "product_id"} (Shopify), {"sku": …} (webhook)
    external: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    desired_quantity: Mapped[int | None] = mapped_column(Integer)
    desired_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    desired_content_hash: Mapped[str | None] = mapped_column(String(64))
    desired_published: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    desired_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    desired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # when the hub changed it (lag)

    acked_quantity: Mapped[int | None] = mapped_column(Integer)
    acked_price_minor: Mapped[int | None] = mapped_column(BigInteger)
    acked_content_hash: Mapped[str | None] = mapped_column(String(64))
    acked_published: Mapped[bool | None] = mapped_column(Boolean)
    acked_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    parked: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("channel_id", "variant_id"),
        Index("ix_channel_listing_variant", "variant_id"),
        # the claim: due listings of one channel, oldest change first; only due rows are in the index
        Index("ix_channel_listing_due", "channel_id", "desired_at", sqlite_where=text(DUE), postgresql_where=text(DUE)),
        Index("ix_channel_listing_parked", "channel_id", sqlite_where=text("parked = true"),
              postgresql_where=text("parked = true")),
    )


class ChannelSyncPending(Base):
    __tablename__ = "channel_sync_pending"

    variant_id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the earliest change not yet recomputed
    reason: Mapped[str] = mapped_column(String(40), default="", server_default="")

    __table_args__ = (Index("ix_channel_sync_pending_changed", "changed_at"),)


class ChannelSyncLog(IdMixin, Base):
    __tablename__ = "channel_sync_log"

    channel_id: Mapped[int] = mapped_column(BigInteger)
    listing_id: Mapped[int | None] = mapped_column(BigInteger)
    variant_id: Mapped[int | None] = mapped_column(BigInteger)
    operation: Mapped[str] = mapped_column(String(30))  # inventory | price | listing | reconcile | orders | …
    version: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # ok | error | retry | parked | drift | corrected | …
    sent: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    answer: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    lag_ms: Mapped[int | None] = mapped_column(Integer)  # from desired_at to the acknowledgement
    worker: Mapped[str] = mapped_column(String(100), default="", server_default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_channel_sync_log_listing", "listing_id", "id"),
        Index("ix_channel_sync_log_channel", "channel_id", "id"),
        Index("ix_channel_sync_log_at", "at"),
    )


class ChannelSyncCursor(Base):
    __tablename__ = "channel_sync_cursor"

    channel_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("channel.id", ondelete="CASCADE"),
                                            primary_key=True)
    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # orders | offer_events
    value: Mapped[str | None] = mapped_column(String(400))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChannelRateLimit(Base):
    __tablename__ = "channel_rate_limit"

    channel_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("channel.id", ondelete="CASCADE"),
                                            primary_key=True)
    bucket: Mapped[str] = mapped_column(String(40), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    refreshed: Mapped[float] = mapped_column(Float)  # epoch seconds: arithmetic stays dialect-neutral
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))


class ChannelDelivery(IdMixin, Base):
    __tablename__ = "channel_delivery"

    channel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("channel.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # webhook | fulfilment | tracking
    topic: Mapped[str] = mapped_column(String(100))
    dedup_key: Mapped[str] = mapped_column(String(200))  # the delivery id the receiver deduplicates on
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    state: Mapped[str] = mapped_column(String(12), default="pending")  # pending | delivered | parked
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("channel_id", "dedup_key"),
        Index("ix_channel_delivery_due", "next_attempt_at", sqlite_where=text("state = 'pending'"),
              postgresql_where=text("state = 'pending'")),
        Index("ix_channel_delivery_channel", "channel_id", "id"),
    )
