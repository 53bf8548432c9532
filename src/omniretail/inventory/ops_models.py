"""Tables of the inventory operations around the ledger: transfers between locations, count sheets, incoming
purchase orders and pre-order caps.

None of them holds stock: every unit that moves does so through ``ledger`` (a movement and its level in the
same transaction). These rows are the documents that say why.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, BigIntPK, IdMixin, UTCDateTime

TRANSFER_STATES = ("requested", "in_transit", "received", "cancelled")
COUNT_STATES = ("open", "submitted", "approved", "rejected")
INCOMING_STATES = ("open", "received", "cancelled")


class StockTransfer(IdMixin, Base):
    """Goods sent from one location to another: requested → in_transit → received, or cancelled before
    shipping. A partial receipt keeps it in transit (the rest is still on the way)."""

    __tablename__ = "stock_transfer"

    source_location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    destination_location_id: Mapped[int] = mapped_column(BigInteger,
                                                         ForeignKey("location.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12), default="requested", server_default="requested")
    # e.g. "order:1042" for a ship-to-store transfer (linked by the orders package)
    order_reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    requested_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    shipped_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    received_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (
        CheckConstraint("source_location_id <> destination_location_id", name="distinct_locations"),
        Index("ix_stock_transfer_source", "source_location_id", "id"),
        Index("ix_stock_transfer_destination", "destination_location_id", "id"),
        Index("ix_stock_transfer_state", "state", "id"),
        Index("ix_stock_transfer_order_reference", "order_reference"),
    )


class StockTransferLine(IdMixin, Base):
    __tablename__ = "stock_transfer_line"

    transfer_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("stock_transfer.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    quantity_requested: Mapped[int] = mapped_column(Integer)
    quantity_shipped: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    quantity_received: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (
        UniqueConstraint("transfer_id", "variant_id"),
        CheckConstraint("quantity_requested > 0", name="requested_positive"),
        CheckConstraint("quantity_shipped >= 0", name="shipped_not_negative"),
        CheckConstraint("quantity_received >= 0 AND quantity_received <= quantity_shipped",
                        name="received_within_shipped"),
    )


class CountSheet(IdMixin, Base):
    """A stock count at one location: open (counts entered) → submitted → approved (count movements
    written) | rejected (discarded). Variances above ``variance_threshold`` units need a manager."""

    __tablename__ = "count_sheet"

    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(12), default="open", server_default="open")
    variance_threshold: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    needs_approval: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    submitted_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    decided_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("variance_threshold >= 0", name="threshold_not_negative"),
        Index("ix_count_sheet_location", "location_id", "id"),
        Index("ix_count_sheet_state", "state", "id"),
    )


class CountSheetLine(IdMixin, Base):
    __tablename__ = "count_sheet_line"

    sheet_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("count_sheet.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    # on_hand when the sheet was made, taken again when the line is counted (the moment the shelf was seen)
    expected: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int | None] = mapped_column(Integer)
    counted_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("sheet_id", "variant_id"),
        CheckConstraint("counted >= 0", name="counted_not_negative"),
    )


class IncomingStock(IdMixin, Base):
    """Goods on order (a purchase order line): what a backorder/pre-order channel may promise ahead."""

    __tablename__ = "incoming_stock"

    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    received_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    expected_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100), default="", server_default="")
    state: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    created_by: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received_quantity >= 0 AND received_quantity <= quantity", name="received_within"),
        Index("ix_incoming_stock_open", "variant_id", "location_id", "expected_date",
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        Index("ix_incoming_stock_reference", "reference"),
    )


class PreorderCap(Base):
    """How much of a variant may be sold ahead of its arrival (``cap``; None: as much as is on order) and
    how much has been (``preordered``, moved only by conditional updates)."""

    __tablename__ = "preorder_cap"

    variant_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("variant.id", ondelete="CASCADE"),
                                            primary_key=True)
    cap: Mapped[int | None] = mapped_column(Integer)
    preordered: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("cap >= 0", name="cap_not_negative"),
        CheckConstraint("preordered >= 0", name="preordered_not_negative"),
    )
