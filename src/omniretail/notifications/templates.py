"""Render a notification from its Jinja2 template for a locale: subject, plain text, HTML and SMS text.

Templates live in ``notifications/templates/<locale>/<template>.j2``; each defines the blocks ``subject``,
``text``, ``html`` and ``sms``. The locale's ``_parts.j2`` (as ``parts``) holds its words: the labels ``t``,
the greeting and the signature. ``_common.j2`` (as ``common``) holds the locale-neutral pieces: the HTML frame,
order lines and totals, the store's address and hours. Plain text and subject render without escaping, HTML
with autoescaping. Amounts, dates and weekdays are formatted for the locale with Babel (``money``, ``date``,
``when``, ``until``, ``hours`` in the template context).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time, get_day_names
from jinja2 import Environment, PackageLoader, StrictUndefined

from omniretail.platform.i18n import SUPPORTED_LOCALES, normalise_locale
from omniretail.platform.money import format_money

from .schemas import TEMPLATES, NotificationData, RenderedMessage

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# a clock time as the locale writes it in a message; Albanian messages use the 24-hour clock of the store's
# opening hours ("21:00"), not CLDR's "9:00 m.d."
TIME_FORMAT = {"sq": "HH:mm"}


@lru_cache(maxsize=2)
def _environment(html: bool) -> Environment:
    return Environment(
        loader=PackageLoader("omniretail.notifications", "templates"), autoescape=html,
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False,
    )


@dataclass(frozen=True)
class LocaleFormat:
    """Formatting helpers bound to one locale and currency, for the templates."""

    locale: str
    currency: str

    def money(self, amount: Decimal | None) -> str:
        return "" if amount is None else format_money(Decimal(amount), self.currency, self.locale)

    def date(self, value: date | datetime | None, timezone: str | None = None) -> str:
        """A day ("3 grudnia 2026"); a moment is first moved to ``timezone`` (the store's)."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = _local(value, timezone).date()
        return format_date(value, "long", locale=self.locale)

    def when(self, value: datetime | None, timezone: str | None = None) -> str:
        """Date and time in the store's time zone, in the locale's order ("czwartek, 3 grudnia 2026 20:00")."""
        if value is None:
            return ""
        local = _local(value, timezone)
        pattern = str(Locale.parse(self.locale).datetime_formats["long"])
        return (pattern.replace("{1}", format_date(local.date(), "full", locale=self.locale))
                .replace("{0}", self._time(local)))

    def _time(self, local: datetime) -> str:
        return format_time(local, TIME_FORMAT.get(self.locale, "short"), locale=self.locale)

    def until(self, value: datetime | None, timezone: str | None = None, *, short: bool = False) -> str:
        """A deadline in the store's time zone: date and time ("poniedziałek, 7 grudnia 2026 21:00"; ``short``
        for an SMS: "7 grudnia 2026, 21:00"); the date alone when it is the end of the day (23:59:59 — a store
        without opening hours, ``orders.pickup_deadline``)."""
        if value is None:
            return ""
        local = _local(value, timezone)
        if (local.hour, local.minute, local.second) == (23, 59, 59):
            return format_date(local.date(), "long" if short else "full", locale=self.locale)
        if not short:
            return self.when(value, timezone)
        pattern = str(Locale.parse(self.locale).datetime_formats["medium"])
        return (pattern.replace("{1}", format_date(local.date(), "long", locale=self.locale))
                .replace("{0}", self._time(local)))

    def hours(self, opening_hours: dict[str, list[list[str]]]) -> list[tuple[str, str | None]]:
        """Opening hours as (days, "09:00–21:00") rows, equal consecutive days merged; None means closed."""
        if not any(opening_hours.values()):
            return []
        names = get_day_names("abbreviated", locale=self.locale)
        rows: list[tuple[int, int, str | None]] = []
        for index, day in enumerate(WEEKDAYS):
            spans = opening_hours.get(day) or []
            text = ", ".join(f"{a}–{b}" for a, b in spans) or None
            if rows and rows[-1][2] == text and rows[-1][1] == index - 1:
                rows[-1] = (rows[-1][0], index, text)
            else:
                rows.append((index, index, text))
        return [(names[a] if a == b else f"{names[a]}–{names[b]}", text) for a, b, text in rows]


def _local(value: datetime, timezone: str | None) -> datetime:
    try:
        return value.astimezone(ZoneInfo(timezone)) if timezone else value
    except (ZoneInfoNotFoundError, ValueError):
        return value


def _context(locale: str, data: NotificationData) -> dict[str, Any]:
    fmt = LocaleFormat(locale, data.currency)
    return {"order": data, "customer": data.customer, "locale": locale, "money": fmt.money, "date": fmt.date,
            "when": fmt.when, "until": fmt.until, "hours": fmt.hours}


def _render_blocks(html: bool, template: str, locale: str, context: dict[str, Any], blocks: tuple[str, ...]):
    env = _environment(html)
    parts = env.get_template(f"{locale}/_parts.j2").make_module(context)
    common = env.get_template("_common.j2").make_module(context)
    tmpl = env.get_template(f"{locale}/{template}.j2")
    ctx = tmpl.new_context({**context, "parts": parts, "common": common})
    return {name: "".join(tmpl.blocks[name](ctx)) for name in blocks}


_BLANK_RUNS = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)) + "\n"


def render(template: str, locale: str | None, data: NotificationData) -> RenderedMessage:
    """Render ``template`` for ``locale`` (unsupported locales fall back to the default one)."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown notification template {template!r}")
    locale = normalise_locale(locale)
    return render_context(template, locale, _context(locale, data))


def render_context(template: str, locale: str, context: dict[str, Any]) -> RenderedMessage:
    """Render ``locale/template.j2`` with ``context`` (``render`` gives a customer message's; staff messages,
    ``staff.py``, their own): the subject and SMS on one line, the plain text tidied."""
    plain = _render_blocks(False, template, locale, context, ("subject", "text", "sms"))
    subject = " ".join(plain["subject"].split())
    rich = _render_blocks(True, template, locale, {**context, "subject": subject}, ("html",))
    return RenderedMessage(
        template=template, locale=locale, subject=subject, text=_tidy(plain["text"]),
        html=rich["html"].strip() + "\n", sms=" ".join(plain["sms"].split()),
    )


def available_locales() -> tuple[str, ...]:
    return SUPPORTED_LOCALES
