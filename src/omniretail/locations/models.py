"""Warehouses, stores and pickup points."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, JSONType, TimestampMixin


class Location(IdMixin, TimestampMixin, Base):
    __tablename__ = "location"

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # warehouse | store | pickup_point
    street: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20), default="")
    city: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2), default="PL")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    timezone: Mapped[str] = mapped_column(String(60), default="Europe/Warsaw")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    # {"mon": [["09:00", "21:00"]], ..., "sun": []}
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    ships_orders: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    offers_pickup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    offers_curbside: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    accepts_returns: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    sells_pos: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    daily_capacity: Mapped[int | None] = mapped_column(Integer)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
