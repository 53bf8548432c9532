"""Sales channels and the locations that may fulfil them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from omniretail.platform.models import Base, IdMixin, JSONType, TimestampMixin


class Channel(IdMixin, TimestampMixin, Base):
    __tablename__ = "channel"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(10), default="pl")
    prices_include_tax: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    # Non-secret connector settings (base URL, seller id, ...).
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # Secret connector settings, Fernet-encrypted JSON; never returned by the API.
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    # Stock policy (buffer, cap, share, floor ...) filled in by the inventory package.
    stock_policy: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    locations: Mapped[list[ChannelLocation]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ChannelLocation.priority"
    )


class ChannelLocation(Base):
    """A location allowed to fulfil the channel's orders (and whose stock the channel may promise)."""

    __tablename__ = "channel_location"

    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id", ondelete="CASCADE"), primary_key=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
