"""Orders from every channel, their lines, the fulfilment orders that split them over locations, shipments and
the timeline. Amounts are integer minor units of the order's currency."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, Numeric, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, JSONType, UTCDateTime


class Order(IdMixin, Base):
    __tablename__ = "sales_order"

    channel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("channel.id", ondelete="RESTRICT"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("customer.id", ondelete="SET NULL"))
    customer_identity_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("customer_identity.id", ondelete="SET NULL"))
    # the contact details given with this order (the profile may change; the order keeps what it was told)
    contact: Mapped[dict[str, Any]] = mapped_column(JSONType)
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(24))
    payment_status: Mapped[str] = mapped_column(String(20))
    delivery_method: Mapped[str] = mapped_column(String(20))  # ship | pickup | curbside | pickup_point
    pickup_location_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("location.id"))
    # the store where staff entered it (POS sale, endless aisle); associates of that store see the order
    origin_location_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("location.id"))
    shipping_address: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    subtotal_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    prices_include_tax: Mapped[bool] = mapped_column()
    channel_revision: Mapped[int | None] = mapped_column(BigInteger)
    routing: Mapped[dict[str, Any]] = mapped_column(JSONType)  # the routing explanation, short form
    note: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        Index("ix_sales_order_customer", "customer_id"),
        Index("ix_sales_order_identity", "customer_identity_id"),
        Index("ix_sales_order_state", "state", "id"),
        # most orders are not entered at a store: only those that are are indexed (migration 0016)
        Index("ix_sales_order_origin", "origin_location_id", sqlite_where=text("origin_location_id IS NOT NULL"),
              postgresql_where=text("origin_location_id IS NOT NULL")),
    )


class OrderLine(IdMixin, Base):
    __tablename__ = "order_line"

    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="RESTRICT"))
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    quantity_backordered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    quantity_cancelled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    discount_minor: Mapped[int] = mapped_column(BigInteger)
    tax_rate: Mapped[Any] = mapped_column(Numeric(5, 4))
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    price_source: Mapped[str] = mapped_column(String(60))  # "channel" (given by it) or "price_list:<code>"
    state: Mapped[str] = mapped_column(String(20))  # allocated | backordered | cancelled

    __table_args__ = (Index("ix_order_line_order", "order_id", "position"),)


class FulfilmentOrder(IdMixin, Base):
    """The part of an order one location fulfils. ``lines``: ``[{"order_line_id", "variant_id", "sku",
    "quantity", "reservation_id", "shipped"}]``."""

    __tablename__ = "fulfilment_order"

    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="RESTRICT"))
    delivery_method: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    lines: Mapped[list[Any]] = mapped_column(JSONType)
    # HMAC-SHA256 (hex) of the pickup code under the instance secret; the code itself goes only to the customer
    pickup_code: Mapped[str | None] = mapped_column(String(64))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    check_in: Mapped[dict[str, Any] | None] = mapped_column(JSONType)  # curbside bay / car note
    assigned_to: Mapped[str | None] = mapped_column(String(300))
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # the location's local date when it was assigned: what its daily capacity counts (``capacity``)
    assigned_day: Mapped[date | None] = mapped_column(Date)
    # ready (collected) or dispatched (shipped) by then (``promise``); escalated once per level: 1 due soon, 2 late
    promised_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # ship-to-store: the transfer that moves the goods (on the source's and on the pickup store's order)
    transfer_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("stock_transfer.id", ondelete="SET NULL"))

    __table_args__ = (
        Index("ix_fulfilment_order_order", "order_id"),
        Index("ix_fulfilment_order_location", "location_id", "state", "id"),
        # ready_at and transfer_id are empty when a fulfilment order is written, and every query gives them a
        # value: only the rows that have one are indexed (migration 0016)
        Index("ix_fulfilment_order_ready", "state", "ready_at", sqlite_where=text("ready_at IS NOT NULL"),
              postgresql_where=text("ready_at IS NOT NULL")),
        Index("ix_fulfilment_order_day", "location_id", "assigned_day"),
        Index("ix_fulfilment_order_promise", "promised_by"),
        Index("ix_fulfilment_order_transfer", "transfer_id", sqlite_where=text("transfer_id IS NOT NULL"),
              postgresql_where=text("transfer_id IS NOT NULL")),
    )


class Shipment(IdMixin, Base):
    """A parcel (or several, ``parcels``) leaving a location for one fulfilment order."""

    __tablename__ = "shipment"

    fulfilment_order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("fulfilment_order.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"))
    carrier: Mapped[str] = mapped_column(String(60))
    tracking_number: Mapped[str] = mapped_column(String(100))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    parcels: Mapped[list[Any]] = mapped_column(JSONType)
    lines: Mapped[list[Any]] = mapped_column(JSONType)  # [{"order_line_id", "quantity"}]
    state: Mapped[str] = mapped_column(String(20))  # shipped | delivered
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_shipment_fulfilment_order", "fulfilment_order_id"),
                      Index("ix_shipment_order", "order_id"))


class OrderEvent(IdMixin, Base):
    """The timeline: every transition and notable act on an order, oldest first."""

    __tablename__ = "order_event"

    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"))
    fulfilment_order_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str | None] = mapped_column(String(24))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)

    __table_args__ = (Index("ix_order_event_order", "order_id", "id"),)
