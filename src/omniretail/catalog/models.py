"""Products, variants, categories, translations and media."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from omniretail.platform.models import Base, IdMixin, JSONType, TimestampMixin


class Category(IdMixin, Base):
    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(200), unique=True)  # the path, e.g. "shoes/running"
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"))


class Product(IdMixin, TimestampMixin, Base):
    __tablename__ = "product"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    brand: Mapped[str] = mapped_column(String(120), default="")
    category_id: Mapped[int | None] = mapped_column(ForeignKey("category.id", ondelete="SET NULL"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    vat_rate: Mapped[Any] = mapped_column(Numeric(5, 4), default=0.23, server_default=text("0.23"))


class ProductTranslation(Base):
    __tablename__ = "product_translation"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    locale: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")


class Variant(IdMixin, TimestampMixin, Base):
    __tablename__ = "variant"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    mpn: Mapped[str] = mapped_column(String(70), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)  # {"colour": "red", "size": "M"}
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))


class ProductMedia(IdMixin, Base):
    __tablename__ = "product_media"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("variant.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(1000))
    alt: Mapped[str] = mapped_column(String(300), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_product_media_product", "product_id", "position"),
                      Index("ix_product_media_variant", "variant_id"))
