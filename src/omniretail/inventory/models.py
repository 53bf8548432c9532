"""Stock levels, the movement ledger and reservations.

``stock_level`` is derived: ``on_hand`` always equals the sum of the (variant, location) movements and
``reserved`` the sum of its open reservations; both are kept in step in the same transaction as the rows that
justify them. Counters are changed with one SQL expression, never read-modify-write (see ``repository``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, BigIntPK, IdMixin, UTCDateTime

MOVEMENT_KINDS = ("receipt", "sale", "adjustment", "transfer_out", "transfer_in", "return_restock", "count",
                  "damage")
RESERVATION_STATES = ("open", "consumed", "released", "expired")
RESERVATION_KINDS = ("order_line", "cart_hold")


class StockLevel(Base):
    __tablename__ = "stock_level"

    variant_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("variant.id", ondelete="CASCADE"),
                                            primary_key=True)
    location_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("location.id", ondelete="CASCADE"),
                                             primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    safety_stock: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # None: use the location's default (location_stock_settings); still None: no alerts.
    low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    # Alert state, so a crossing is announced once; ``low_stock_changed_version`` is the version that last
    # flipped it, which lets one UPDATE … RETURNING say whether it crossed.
    low_stock_alerted: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    low_stock_changed_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("safety_stock >= 0", name="safety_stock_not_negative"),
        Index("ix_stock_level_location", "location_id", "variant_id"),
        # SQLite: store the rows in primary-key order (no rowid indirection on the hot lookups)
        {"sqlite_with_rowid": False},
    )


class StockMovement(IdMixin, Base):
    """Append-only: a row is never updated or deleted."""

    __tablename__ = "stock_movement"

    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)  # signed delta of on_hand
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    actor: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_stock_movement_variant_location", "variant_id", "location_id", "id"),
        Index("ix_stock_movement_location", "location_id", "id"),
        Index("ix_stock_movement_created_at", "created_at"),
        Index("ix_stock_movement_reference", "reference_type", "reference_id"),
    )


class Reservation(IdMixin, Base):
    __tablename__ = "reservation"

    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("location.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="open", server_default="open")
    kind: Mapped[str] = mapped_column(String(12))
    reference: Mapped[str] = mapped_column(String(200), default="", server_default="")
    channel_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("channel.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        Index("ix_reservation_open", "variant_id", "location_id",
              sqlite_where=text("state = 'open'"), postgresql_where=text("state = 'open'")),
        Index("ix_reservation_expiry", "expires_at",
              sqlite_where=text("state = 'open' AND expires_at IS NOT NULL"),
              postgresql_where=text("state = 'open' AND expires_at IS NOT NULL")),
        Index("ix_reservation_reference", "reference"),
    )


class LocationStockSettings(Base):
    """Per-location inventory rules: the default low-stock threshold and whether stock may go negative."""

    __tablename__ = "location_stock_settings"

    location_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("location.id", ondelete="CASCADE"),
                                             primary_key=True)
    default_low_stock_threshold: Mapped[int | None] = mapped_column(Integer)
    allow_negative_stock: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class PhantomStock(Base):
    """Rejected picks of one variant at one location ("not found", "damaged" on the shelf) and the caution
    buffer they earned: after ``threshold`` strikes channel availability holds ``buffer`` units back there,
    one unit fewer after every ``clean_picks_per_unit`` clean picks (``inventory.phantom``)."""

    __tablename__ = "phantom_stock"

    variant_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("variant.id", ondelete="CASCADE"),
                                            primary_key=True)
    location_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("location.id", ondelete="CASCADE"),
                                             primary_key=True)
    rejections: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))  # ever
    units: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))  # ever rejected
    strikes: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))  # since the buffer was 0
    buffer: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    clean_picks_since: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_reason: Mapped[str] = mapped_column(String(20), default="", server_default="")

    __table_args__ = (
        CheckConstraint("buffer >= 0", name="buffer_not_negative"),
        Index("ix_phantom_stock_location", "location_id", "rejections"),
    )


class PhantomStockSettings(Base):
    """Per-location overrides of the phantom-stock rule (None: the defaults in ``inventory.phantom``)."""

    __tablename__ = "phantom_stock_settings"

    location_id: Mapped[int] = mapped_column(BigIntPK, ForeignKey("location.id", ondelete="CASCADE"),
                                             primary_key=True)
    threshold: Mapped[int | None] = mapped_column(Integer)
    buffer_step: Mapped[int | None] = mapped_column(Integer)
    clean_picks_per_unit: Mapped[int | None] = mapped_column(Integer)
