"""The Jinja2 environment of the pages: autoescaping, ``{% trans %}``, locale-aware filters, and the
context every page gets (who is signed in, locale, CSRF token, navigation)."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import get_day_names
from babel.numbers import format_percent
from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape

from omniretail.platform import i18n as fmt
from omniretail.platform.money import from_minor

from . import i18n
from .csrf import csrf_token
from .i18n import N_

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# (path, label, permission): what the navigation offers, filtered by what the principal may do.
NAVIGATION = (
    ("/backoffice", N_("Overview"), "analytics:read"),
    ("/store", N_("Store app"), "inventory:write"),
    ("/backoffice/catalog", N_("Catalog"), "catalog:read"),
    ("/backoffice/locations", N_("Locations"), "locations:read"),
    ("/backoffice/channels", N_("Channels"), "channels:read"),
    ("/backoffice/stock", N_("Stock"), "inventory:read"),
    ("/backoffice/transfers", N_("Transfers"), "inventory:read"),
    ("/backoffice/counts", N_("Stock counts"), "inventory:read"),
    ("/store/pickups", N_("Pickup queue"), "inventory:write"),
    ("/store/returns", N_("Returns"), "inventory:write"),
    ("/store/pos", N_("Till"), "orders:write"),
    ("/backoffice/orders", N_("Orders"), "orders:read"),
    ("/backoffice/customers", N_("Customers"), "customers:read"),
    ("/backoffice/jobs", N_("Imports"), "catalog:write"),
    ("/backoffice/users", N_("Users"), "users:manage"),
    ("/backoffice/audit", N_("Audit log"), "audit:read"),
)

ROLE_LABELS = {"owner": N_("owner"), "admin": N_("administrator"), "manager": N_("manager"),
               "associate": N_("store associate"), "integration": N_("integration"), "analyst": N_("analyst")}


def page_context(request: Request) -> dict[str, Any]:
    principal = getattr(request.state, "principal", None)
    locale = i18n.request_locale(request)
    path = request.url.path
    nav = []
    if principal is not None:
        for href, label, permission in NAVIGATION:
            if principal.can(permission):
                current = path == href or (href != "/backoffice" and path.startswith(href + "/"))
                nav.append({"href": href, "label": label, "current": current})
    return {
        "principal": principal, "locale": locale, "translations": i18n.translations_for(locale),
        "csrf_token": csrf_token(request), "nav": nav,
    }


@pass_context
def money(context, amount: Decimal | int | None, currency: str) -> str:
    if amount is None:
        return ""
    return fmt.money(Decimal(amount), currency, context["locale"])


@pass_context
def money_minor(context, minor: int | None, currency: str) -> str:
    return "" if minor is None else fmt.money(from_minor(minor, currency), currency, context["locale"])


@pass_context
def number(context, value) -> str:
    return "" if value is None else fmt.number(value, context["locale"])


@pass_context
def when(context, value: datetime | None, tz: str | None = None) -> str:
    return "" if value is None else fmt.when(value, context["locale"], tz)


@pass_context
def day(context, value: date | None) -> str:
    """A calendar day in the reader's language."""
    return "" if value is None else fmt.day(value, context["locale"])


@pass_context
def weekday(context, key: str) -> str:
    names = get_day_names("wide", locale=context["locale"])
    return names[WEEKDAY_KEYS.index(key)] if key in WEEKDAY_KEYS else key


@pass_context
def country(context, code: str) -> str:
    return Locale.parse(context["locale"]).territories.get((code or "").upper(), code)


@pass_context
def language(context, code: str) -> str:
    name = Locale.parse(context["locale"]).languages.get(code or "", code)
    return name[:1].upper() + name[1:] if name else ""


@pass_context
def percent(context, value) -> str:
    return "" if value is None else format_percent(Decimal(value), locale=context["locale"])


@pass_context
def translate(context, message: str) -> str:
    """Translate a message chosen in Python (marked with ``N_``); no formatting, so any text is safe."""
    return i18n.translations_for(context["locale"]).gettext(str(message)) if message else ""


def display_value(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return str(value)


def build_templates() -> Jinja2Templates:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n", "jinja2.ext.do"], undefined=StrictUndefined, trim_blocks=True,
        lstrip_blocks=True,
    )
    env.policies["ext.i18n.trimmed"] = True
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(gettext=i18n.gettext, ngettext=i18n.ngettext, weekdays=WEEKDAY_KEYS,
                       role_labels=ROLE_LABELS)
    env.filters.update(money=money, money_minor=money_minor, number=number, when=when, day=day, weekday=weekday,
                       country=country, language=language, percent=percent, translate=translate,
                       display_value=display_value)
    return Jinja2Templates(env=env, context_processors=[page_context])
