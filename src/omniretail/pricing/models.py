"""Price lists and prices (integer minor units of the list's currency)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, TimestampMixin, UTCDateTime


class PriceList(IdMixin, TimestampMixin, Base):
    __tablename__ = "price_list"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class Price(IdMixin, Base):
    __tablename__ = "price"

    price_list_id: Mapped[int] = mapped_column(ForeignKey("price_list.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    compare_at_minor: Mapped[int | None] = mapped_column(BigInteger)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("price_list_id", "variant_id"),
        Index("ix_price_variant", "variant_id"),
    )
