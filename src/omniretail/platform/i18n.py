"""Locales we ship and locale-aware formatting (Babel).

Times are stored in UTC and shown in a time zone: the one asked for, else the display zone of the current
page (:func:`display_zone`, set around a page's rendering: a store's own zone in the store app, the location's
or the instance's in the back office), else UTC. A naive datetime is taken as UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.core import get_global
from babel.dates import format_date, format_time, get_datetime_format
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


# (zone, labelled): the zone times are shown in while a page renders, and whether they name it.
_display_zone: ContextVar[tuple[str, bool] | None] = ContextVar("display_zone", default=None)


@contextmanager
def display_zone(zone: str | None, *, labelled: bool = False) -> Iterator[None]:
    """Show times in ``zone`` (an IANA name) within the block, followed by the zone's abbreviation when
    ``labelled`` (a page mixing places); ``None`` leaves UTC."""
    token = _display_zone.set((zone, labelled) if zone else None)
    try:
        yield
    finally:
        _display_zone.reset(token)


def zone_info(zone: str | tzinfo | None) -> tzinfo:
    """``zone`` as a tzinfo; missing or unknown: UTC."""
    if isinstance(zone, tzinfo):
        return zone
    try:
        return ZoneInfo(zone) if zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


# the zone of a country the hub ships to most (one for a country with several, such as DE's Busingen); any other
# country with a single zone is read from CLDR
COUNTRY_ZONES = {"PL": "Europe/Warsaw", "TR": "Europe/Istanbul", "AL": "Europe/Tirane", "DE": "Europe/Berlin",
                 "CZ": "Europe/Prague", "SK": "Europe/Bratislava", "LT": "Europe/Vilnius", "AT": "Europe/Vienna",
                 "GB": "Europe/London", "IE": "Europe/Dublin", "FR": "Europe/Paris", "IT": "Europe/Rome",
                 "NL": "Europe/Amsterdam", "BE": "Europe/Brussels", "XK": "Europe/Belgrade", "MK": "Europe/Skopje",
                 "GR": "Europe/Athens", "UA": "Europe/Kyiv"}


def country_zone(country: str) -> str | None:
    """The time zone of an ISO 3166 country with one (None for one with several, such as the US)."""
    return COUNTRY_ZONES.get(country) or _single_zones().get(country)


@lru_cache(maxsize=1)
def _single_zones() -> dict[str, str]:
    """Countries with one time zone, from CLDR's territory zones (Babel's data, not the system's zone.tab)."""
    return {country: names[0] for country, names in get_global("territory_zones").items()
            if len(names) == 1 and known_zone(names[0])}


def known_zone(name: str | None) -> bool:
    """An IANA zone this machine knows."""
    try:
        return bool(name) and ZoneInfo(name) is not None
    except (ZoneInfoNotFoundError, ValueError):
        return False


def localised(value: datetime, zone: str | tzinfo | None = None) -> datetime:
    """``value`` (naive: UTC) in ``zone``, else in the current display zone, else in UTC."""
    if zone is None:
        current = _display_zone.get()
        zone = current[0] if current else None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone_info(zone))


def zone_label(value: datetime) -> str:
    """The zone's abbreviation at that moment ("CET", "CEST"), or its UTC offset where the zone has no
    abbreviation ("UTC+03" for Europe/Istanbul)."""
    name = value.tzname() or ""
    return f"UTC{name}" if name[:1] in ("+", "-") else name


def day(value: date, locale: str) -> str:
    """A calendar day in the locale's medium form ("6 gru 2026", "Dec 6, 2026")."""
    return format_date(value, "medium", locale=locale)


def _date_and_time(local: datetime, locale: str) -> str:
    """The locale's medium date with its short time (hours and minutes: "6 Dec 2026, 12:00"), joined as the
    locale joins a medium date and time."""
    pattern = str(get_datetime_format("medium", locale=locale)).replace("'", "")
    return (pattern.replace("{0}", format_time(local, "short", tzinfo=local.tzinfo, locale=locale))
            .replace("{1}", format_date(local, "medium", locale=locale)))


def when(value: datetime, locale: str, tz: str | tzinfo | None = None, *, labelled: bool | None = None) -> str:
    """Date and time in ``tz`` (else the display zone, else UTC); the zone named after it when ``labelled``
    (by default: as the display zone says)."""
    local = localised(value, tz)
    text = _date_and_time(local, locale)
    if labelled is None:
        current = _display_zone.get()
        labelled = current[1] if current else False
    return f"{text} {zone_label(local)}" if labelled else text
