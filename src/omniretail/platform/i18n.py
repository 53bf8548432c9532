"""Locales we ship and locale-aware formatting (Babel)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.dates import format_datetime
from babel.numbers import format_decimal

SUPPORTED_LOCALES = ("en", "pl", "tr", "sq")
DEFAULT_LOCALE = "en"


def normalise_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    code = value.replace("-", "_").split("_")[0].lower()
    return code if code in SUPPORTED_LOCALES else DEFAULT_LOCALE


def best_locale(accept_language: str | None) -> str:
    """Pick the best supported locale from an Accept-Language header."""
    if not accept_language:
        return DEFAULT_LOCALE
    weighted: list[tuple[float, str]] = []
    for part in accept_language.split(","):
        bits = part.strip().split(";q=")
        try:
            q = float(bits[1]) if len(bits) > 1 else 1.0
        except ValueError:
            q = 0.0
        weighted.append((q, bits[0].strip()))
    for _q, tag in sorted(weighted, key=lambda item: -item[0]):
        code = tag.replace("-", "_").split("_")[0].lower()
        if code in SUPPORTED_LOCALES:
            return code
    return DEFAULT_LOCALE


def money(amount: Decimal, currency: str, locale: str) -> str:
    from .money import format_money

    return format_money(amount, currency, locale)


def number(value: Decimal | int | float, locale: str) -> str:
    return format_decimal(value, locale=locale)


def when(value: datetime, locale: str, tz: str | None = None) -> str:
    return format_datetime(value, "medium", tzinfo=tz, locale=locale)
