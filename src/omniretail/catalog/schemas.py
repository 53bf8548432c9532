"""Catalog payloads in and out of the API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from omniretail.platform.i18n import SUPPORTED_LOCALES

from . import rules
from .gtin import GtinError, normalise_gtin
from .rules import ProductStatus

__all__ = [
    "BulkItemRead",
    "BulkResultRead",
    "CatalogImportRead",
    "ImportErrorRead",
    "ImportSummaryRead",
    "MediaCreate",
    "MediaRead",
    "ProductBulkCreate",
    "ProductCreate",
    "ProductRead",
    "ProductStatus",
    "ProductUpdate",
    "TranslationCreate",
    "VariantBulkCreate",
    "VariantBulkItemCreate",
    "VariantCreate",
    "VariantRead",
    "VariantUpdate",
]

Options = dict[str, str]
ExternalRefs = dict[str, str]


def _gtin(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    try:
        return normalise_gtin(value)
    except GtinError as exc:
        raise ValueError(str(exc)) from exc


def _locales(value: dict[str, Any] | None) -> dict[str, Any] | None:
    for locale in value or {}:
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(f"unsupported locale {locale!r}; use one of {', '.join(SUPPORTED_LOCALES)}")
    return value


def _options(value: dict[str, str] | None) -> dict[str, str] | None:
    for name, option in (value or {}).items():
        if not name.strip() or len(name) > rules.MAX_NAME:
            raise ValueError(f"option name {name!r} must be 1–{rules.MAX_NAME} characters")
        if len(option) > rules.MAX_OPTION_VALUE:
            raise ValueError(f"option {name!r} is longer than {rules.MAX_OPTION_VALUE} characters")
    return value


class TranslationCreate(BaseModel):
    title: str = Field(default="", max_length=rules.MAX_TITLE)
    description: str = Field(default="", max_length=rules.MAX_DESCRIPTION)


class MediaCreate(BaseModel):
    url: str = Field(description="http(s) URL of the image")
    alt: str = Field(default="", max_length=rules.MAX_ALT)
    position: int = Field(default=0, ge=0)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return rules.check_media_url(value)


class MediaRead(MediaCreate):
    id: int
    variant_id: int | None = None


class _VariantFields(BaseModel):
    gtin: str | None = Field(default=None,
                             description="EAN/UPC: 8, 12, 13 or 14 digits with a valid check digit, not all zeros; "
                                         "kept in its shortest form (05901234123457 → 5901234123457)")
    mpn: str = Field(default="", max_length=rules.MAX_MPN, description="Manufacturer part number")
    options: Options = Field(default_factory=dict, description='e.g. {"colour": "red", "size": "M"}')
    weight_grams: int | None = Field(default=None, ge=0)
    attributes: dict[str, Any] = Field(default_factory=dict)
    is_active: bool = True

    @field_validator("gtin")
    @classmethod
    def _valid_gtin(cls, value: str | None) -> str | None:
        return _gtin(value)

    @field_validator("options")
    @classmethod
    def _valid_options(cls, value: Options) -> Options:
        return _options(value)


class VariantCreate(_VariantFields):
    sku: str = Field(min_length=1, max_length=rules.MAX_SKU, pattern=rules.CODE_PATTERN)
    external_refs: ExternalRefs = Field(default_factory=dict, description="source -> reference")


class VariantBulkItemCreate(VariantCreate):
    product_code: str = Field(min_length=1, max_length=rules.MAX_CODE)


class VariantUpdate(BaseModel):
    sku: str | None = Field(default=None, min_length=1, max_length=rules.MAX_SKU, pattern=rules.CODE_PATTERN)
    gtin: str | None = None
    mpn: str | None = Field(default=None, max_length=rules.MAX_MPN)
    options: Options | None = None
    weight_grams: int | None = Field(default=None, ge=0)
    attributes: dict[str, Any] | None = None
    is_active: bool | None = None
    external_refs: dict[str, str | None] | None = Field(default=None, description="null detaches a source")

    @field_validator("gtin")
    @classmethod
    def _valid_gtin(cls, value: str | None) -> str | None:
        return _gtin(value)

    @field_validator("options")
    @classmethod
    def _valid_options(cls, value: Options | None) -> Options | None:
        return _options(value)


class VariantRead(_VariantFields):
    model_config = ConfigDict(from_attributes=True)

    id: int
    product_id: int
    sku: str
    external_refs: ExternalRefs = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


def _unique_variants(variants: list[VariantCreate] | None) -> None:
    seen_sku: set[str] = set()
    seen_gtin: set[str] = set()
    for variant in variants or []:
        if variant.sku in seen_sku:
            raise ValueError(f"SKU {variant.sku!r} appears twice in variants")
        seen_sku.add(variant.sku)
        if variant.gtin:
            if variant.gtin in seen_gtin:
                raise ValueError(f"GTIN {variant.gtin} appears twice in variants")
            seen_gtin.add(variant.gtin)


class _ProductFields(BaseModel):
    title: str = Field(min_length=1, max_length=rules.MAX_TITLE)
    description: str = Field(default="", max_length=rules.MAX_DESCRIPTION)
    brand: str = Field(default="", max_length=rules.MAX_BRAND)
    category: str | None = Field(default=None, description="Path such as 'Shoes/Running'; created as needed")
    attributes: dict[str, Any] = Field(default_factory=dict)
    status: ProductStatus = ProductStatus.ACTIVE
    vat_rate: Decimal = Field(default=rules.DEFAULT_VAT_RATE, description="Fraction: 0.23 for 23 %")
    translations: dict[str, TranslationCreate] = Field(default_factory=dict, description="locale -> texts")
    media: list[MediaCreate] = Field(default_factory=list)

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return rules.normalise_category(value)

    @field_validator("vat_rate")
    @classmethod
    def _vat(cls, value: Decimal) -> Decimal:
        return rules.check_vat_rate(value)

    @field_validator("translations")
    @classmethod
    def _translations(cls, value: dict[str, TranslationCreate]) -> dict[str, TranslationCreate]:
        return _locales(value)


class ProductCreate(_ProductFields):
    code: str = Field(min_length=1, max_length=rules.MAX_CODE, pattern=rules.CODE_PATTERN)
    variants: list[VariantCreate] = Field(default_factory=list)
    external_refs: ExternalRefs = Field(default_factory=dict, description="source -> reference")

    @model_validator(mode="after")
    def _variants_unique(self) -> ProductCreate:
        _unique_variants(self.variants)
        return self


class ProductUpdate(BaseModel):
    """Only the fields sent change. ``translations``: a locale set to null is removed; ``media`` replaces
    the product's images; ``variants`` are upserted by SKU (variants not listed stay as they are)."""

    code: str | None = Field(default=None, min_length=1, max_length=rules.MAX_CODE,
                             pattern=rules.CODE_PATTERN)
    title: str | None = Field(default=None, min_length=1, max_length=rules.MAX_TITLE)
    description: str | None = Field(default=None, max_length=rules.MAX_DESCRIPTION)
    brand: str | None = Field(default=None, max_length=rules.MAX_BRAND)
    category: str | None = Field(default=None, description="Path; null removes the category")
    attributes: dict[str, Any] | None = None
    status: ProductStatus | None = None
    vat_rate: Decimal | None = None
    translations: dict[str, TranslationCreate | None] | None = None
    media: list[MediaCreate] | None = None
    variants: list[VariantCreate] | None = None
    external_refs: dict[str, str | None] | None = Field(default=None, description="null detaches a source")

    @field_validator("category")
    @classmethod
    def _category(cls, value: str | None) -> str | None:
        return rules.normalise_category(value)

    @field_validator("translations")
    @classmethod
    def _translations(cls, value: dict[str, TranslationCreate | None] | None):
        return _locales(value)

    @field_validator("vat_rate")
    @classmethod
    def _vat(cls, value: Decimal | None) -> Decimal | None:
        return None if value is None else rules.check_vat_rate(value)

    @model_validator(mode="after")
    def _variants_unique(self) -> ProductUpdate:
        _unique_variants(self.variants)
        return self


class ProductRead(_ProductFields):
    id: int
    code: str
    variants: list[VariantRead] = Field(default_factory=list)
    media: list[MediaRead] = Field(default_factory=list)  # type: ignore[assignment]
    external_refs: ExternalRefs = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


class ProductBulkCreate(BaseModel):
    """Up to 1,000 products, upserted by ``code``; each item is validated on its own."""

    items: list[dict[str, Any]] = Field(description="ProductCreate-shaped objects")


class VariantBulkCreate(BaseModel):
    """Up to 1,000 variants, upserted by ``sku``; each names its product by ``product_code``."""

    items: list[dict[str, Any]] = Field(description="VariantCreate-shaped objects with product_code")


class BulkItemRead(BaseModel):
    index: int
    status: Literal["created", "updated", "error"]
    id: int | None = None
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BulkResultRead(BaseModel):
    created: int
    updated: int
    failed: int
    results: list[BulkItemRead]


class ImportErrorRead(BaseModel):
    row: int = Field(description="Spreadsheet row number: the header is row 1, the first data row is row 2")
    column: str
    message: str


class ImportSummaryRead(BaseModel):
    rows: int = Field(description="Data rows read")
    imported: int = Field(description="Rows (variants) written")
    products: int
    errors: int
    bad_rows: int
    seconds: float


class CatalogImportRead(BaseModel):
    summary: ImportSummaryRead
    errors: list[ImportErrorRead] = Field(description="At most 1,000; see errors_truncated")
    errors_truncated: bool = False
