"""Returns (RMAs) of orders from any channel, their lines, and the refunds paid on them. Amounts are integer
minor units of the order's currency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, UTCDateTime


class SalesReturn(IdMixin, Base):
    """One return of (part of) one order. ``location_id``: where the goods come back (a store that accepts
    returns, or the warehouse by post); known when requested, at the latest when received.

    ``amount_minor`` is the value of the returned goods still to be paid back by refunds (an exchange takes its
    part of it); ``refunded_minor`` what the refunds of this return paid, ``shipping_refunded_minor`` the part
    of that for the order's shipping."""

    __tablename__ = "sales_return"

    number: Mapped[str] = mapped_column(String(60), unique=True)
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"))
    location_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="RESTRICT"))
    state: Mapped[str] = mapped_column(String(20))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    shipping_refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    note: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    outcome: Mapped[str | None] = mapped_column(String(500))  # why it was rejected, cancelled or closed
    requested_by: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    authorised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_sales_return_order", "order_id"),
        Index("ix_sales_return_location", "location_id", "state", "id"),
        Index("ix_sales_return_state", "state", "id"),
    )


class ReturnLine(IdMixin, Base):
    """Units of one order line coming back, why, what inspection found and what became of them; an exchanged
    line points at the replacement order line."""

    __tablename__ = "return_line"

    return_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_return.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("order_line.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(30))
    reason_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    value_minor: Mapped[int] = mapped_column(BigInteger)  # what these units cost the customer
    tax_minor: Mapped[int] = mapped_column(BigInteger)
    condition: Mapped[str | None] = mapped_column(String(20))  # new | opened | used | damaged
    disposition: Mapped[str | None] = mapped_column(String(20))  # restock | damaged | return_to_vendor
    inspection_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    movement_id: Mapped[int | None] = mapped_column(BigInteger)  # the return_restock stock movement
    exchange_order_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("sales_order.id", ondelete="SET NULL"))
    exchange_order_line_id: Mapped[int | None] = mapped_column(BigInteger)
    exchange_credit_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")

    __table_args__ = (
        Index("ix_return_line_return", "return_id"),
        Index("ix_return_line_order_line", "order_line_id"),
    )


class Refund(IdMixin, Base):
    """Money paid back on a return: how (original payment, cash, card, store credit, voucher), where (the store
    that paid cash out) and the payment provider's or voucher's reference."""

    __tablename__ = "refund"

    # None: not a return's refund (a line the customer declined after a pick exception, orders.pick_exceptions)
    return_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("sales_return.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    shipping_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="RESTRICT"))
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    actor: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_refund_return", "return_id"),
        Index("ix_refund_order", "order_id"),
    )
