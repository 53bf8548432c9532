"""Tills: a store's registers, their shifts (the cash drawer from opening float to the count at closing), the
cash that moved in and out during a shift, and the sales rung up at them. Amounts are integer minor units of
the shift's currency (the store's POS channel's)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, JSONType, UTCDateTime

OPEN_SHIFT = "state = 'open'"


class Register(IdMixin, Base):
    """One till (cash drawer) at a store."""

    __tablename__ = "pos_register"

    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("location_id", "code"),)


class RegisterShift(IdMixin, Base):
    """A register's shift: opened with a float, closed with a cash count. At most one open per register."""

    __tablename__ = "pos_register_shift"

    register_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pos_register.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("channel.id", ondelete="RESTRICT"))
    currency: Mapped[str] = mapped_column(String(3))
    state: Mapped[str] = mapped_column(String(10))  # open | closed
    opened_by: Mapped[str] = mapped_column(String(320))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opening_float_minor: Mapped[int] = mapped_column(BigInteger)
    closed_by: Mapped[str | None] = mapped_column(String(320))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    counted_cash_minor: Mapped[int | None] = mapped_column(BigInteger)
    expected_cash_minor: Mapped[int | None] = mapped_column(BigInteger)
    difference_minor: Mapped[int | None] = mapped_column(BigInteger)  # counted − expected
    # {"denominations": {"100.00": 3, …}} when counted note by note; {} for a total
    count_detail: Mapped[dict[str, Any]] = mapped_column(JSONType)
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")

    __table_args__ = (
        Index("ix_pos_register_shift_one_open", "register_id", unique=True, sqlite_where=text(OPEN_SHIFT),
              postgresql_where=text(OPEN_SHIFT)),
        Index("ix_pos_register_shift_location", "location_id", "opened_at"),
    )


class CashMovement(IdMixin, Base):
    """Cash into (+) or out of (−) a shift's drawer: cash sales, cash refunds, paid in, paid out."""

    __tablename__ = "pos_cash_movement"

    shift_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pos_register_shift.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # sale | refund | paid_in | paid_out
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="SET NULL"))
    reference: Mapped[str | None] = mapped_column(String(200))  # the client's id: a retry records it once
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("shift_id", "reference"),
        Index("ix_pos_cash_movement_shift", "shift_id", "id"),
    )


class Sale(IdMixin, Base):
    """What the till recorded about an order it took: how it was paid and, for cash, what was handed over."""

    __tablename__ = "pos_sale"

    order_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("sales_order.id", ondelete="CASCADE"),
                                          unique=True)
    shift_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("pos_register_shift.id", ondelete="RESTRICT"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # counter | endless_aisle
    payment_method: Mapped[str] = mapped_column(String(10))  # cash | card
    total_minor: Mapped[int] = mapped_column(BigInteger)
    tendered_minor: Mapped[int | None] = mapped_column(BigInteger)
    change_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    sold_by: Mapped[str] = mapped_column(String(320))
    sold_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_pos_sale_shift", "shift_id"),)
