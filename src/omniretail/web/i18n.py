"""Translations for the pages: Babel catalogues under ``omniretail/locale/<locale>/LC_MESSAGES/messages``.

Compiled ``.mo`` files are used when they are at least as new as their ``.po``; otherwise the ``.po`` is
compiled in memory, so a checkout works before ``pybabel compile`` has run. ``python -m
omniretail.web.translations compile`` writes the ``.mo`` files; ``… extract`` refreshes the catalogues.

And the time zone a page shows its times in (:func:`page_zone`): the store app a store's own (plain local time),
the back office the zone of the one location a page is about, or the instance's ``timezone`` setting, named
after each time ("CET", "UTC+03") since the reader may be elsewhere.
"""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from fastapi import Request
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.locations.models import Location
from omniretail.platform.i18n import SUPPORTED_LOCALES, best_locale, normalise_locale

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
LOCALE_COOKIE = "omniretail_locale"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown (``_()`` in a template)."""
    return message


def _paths(locale: str) -> tuple[Path, Path]:
    folder = LOCALE_DIR / locale / "LC_MESSAGES"
    return folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"


def _compile(po_path: Path) -> bytes:
    with po_path.open("rb") as fh:
        catalog = read_po(fh)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    return buffer.getvalue()


@cache
def translations_for(locale: str) -> NullTranslations:
    po_path, mo_path = _paths(normalise_locale(locale))
    if mo_path.is_file() and (not po_path.is_file() or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
        with mo_path.open("rb") as fh:
            return Translations(fh, domain=DOMAIN)
    if po_path.is_file():
        return Translations(io.BytesIO(_compile(po_path)), domain=DOMAIN)
    return NullTranslations()


def compile_catalogs(out_dir: Path | None = None) -> list[Path]:
    """Write every ``.mo`` next to its ``.po`` (or under ``out_dir``); returns the files written."""
    written = []
    for locale in SUPPORTED_LOCALES:
        po_path, mo_path = _paths(locale)
        if not po_path.is_file():
            continue
        if out_dir is not None:
            mo_path = out_dir / locale / "LC_MESSAGES" / mo_path.name
            mo_path.parent.mkdir(parents=True, exist_ok=True)
        mo_path.write_bytes(_compile(po_path))
        written.append(mo_path)
    translations_for.cache_clear()
    return written


def request_locale(request: Request) -> str:
    """The signed-in user's profile locale, else the chosen one (cookie), else the browser's."""
    cached = getattr(request.state, "locale", None)
    if cached:
        return cached
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.user_id is not None:
        locale = normalise_locale(principal.locale)
    elif request.cookies.get(LOCALE_COOKIE) in SUPPORTED_LOCALES:
        locale = request.cookies[LOCALE_COOKIE]
    else:
        locale = best_locale(request.headers.get("accept-language"))
    request.state.locale = locale
    return locale


def use_zone(request: Request, zone: str | None) -> None:
    """Show this request's page in ``zone`` (the store's, the location's the page is about); ``None``: the
    default (:func:`page_zone`)."""
    request.state.display_zone = zone


async def location_zone(session: AsyncSession, location_id: int | None) -> str | None:
    """A location's time zone (None when there is no such location)."""
    if location_id is None:
        return None
    return (await session.execute(select(Location.timezone).where(Location.id == location_id))).scalar()


async def location_zones(session: AsyncSession, location_ids) -> dict[int, str]:
    """location id → time zone, for a page showing times of several locations."""
    ids = {int(i) for i in location_ids if i is not None}
    if not ids:
        return {}
    rows = await session.execute(select(Location.id, Location.timezone).where(Location.id.in_(ids)))
    return {row.id: row.timezone for row in rows}


def _store_zone(context: dict[str, Any]) -> str | None:
    store = context.get("store")
    if store is None and context.get("area") is not None:
        store = getattr(context["area"], "store", None)
    return getattr(store, "timezone", None) or None


def page_zone(request: Request, context: dict[str, Any]) -> tuple[str, bool]:
    """(zone, labelled) of a page: the zone a handler chose (:func:`use_zone`), else the store's of a store
    page (``store``, or ``area.store`` of the stock pages), else the instance's ``timezone`` setting; times are
    labelled with their zone outside the store app."""
    zone = getattr(request.state, "display_zone", None) or _store_zone(context)
    if not zone:
        settings = getattr(request.app.state, "settings", None)
        zone = getattr(settings, "timezone", None) or "UTC"
    return zone, not request.url.path.startswith("/store")


# New-style gettext for Jinja (``{% trans %}`` and ``_()``): the catalogue comes from the render context,
# so one Environment serves every locale.

def _catalogue(context) -> NullTranslations:
    return context.get("translations") or translations_for("en")


@pass_context
def gettext(context, message: str, /, **variables):
    rv = _catalogue(context).gettext(message)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


@pass_context
def ngettext(context, singular: str, plural: str, num: int, /, **variables):
    variables.setdefault("num", num)
    rv = _catalogue(context).ngettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables
