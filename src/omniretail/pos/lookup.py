"""What the till shows about a product: found by a scanned code or a search, its price on the store's POS
channel, what is free to sell here and in the nearest other stores.

A scanner types the barcode (GTIN) or the SKU and Enter; either finds the variant: the SKU as written first,
then the GTIN however it is padded (``catalog.gtin``: a 14-digit scan finds the 13-digit GTIN), then the SKU in
another case (``boot-42`` finds ``BOOT-42`` when only one SKU reads so). The store app's stock lookup and the
receive form resolve codes here too (:func:`resolve_codes`). Stock here is what this till may sell (on hand −
reserved: a counter sale may take the safety stock, ``inventory.repository.takeable``); at the other stores it is
what they may promise (on hand − reserved − safety stock), read for every store: an associate sees how many
units a nearby store has, nothing else of it. Nearest is by great-circle distance between the stores' coordinates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, Float, String, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog import rules
from omniretail.catalog.gtin import canonical_gtin
from omniretail.inventory import service as inventory_service
from omniretail.platform import clock, money
from omniretail.platform.errors import NotFound
from omniretail.platform.i18n import normalise_locale
from omniretail.platform.models import JSONType
from omniretail.pricing import service as pricing_service
from omniretail.routing.model import distance_km

NEARBY_STORES = 4
SEARCH_LIMIT = 20

_COLUMNS = """v.id AS variant_id, v.sku, v.gtin, v.options, v.is_active, p.id AS product_id,
       COALESCE(t.title, p.title) AS title"""
_FROM = """FROM variant v JOIN product p ON p.id = v.product_id
LEFT JOIN product_translation t ON t.product_id = p.id AND t.locale = :locale"""
_BY_CODE = text(f"SELECT {_COLUMNS} {_FROM} WHERE v.sku = :code OR v.gtin = :gtin ORDER BY v.sku = :code DESC"
                ).columns(options=JSONType, is_active=Boolean)
# the fallback for a SKU typed in another case (SKUs are ASCII: rules.CODE_PATTERN); two matches: ambiguous
_BY_SKU_ANY_CASE = text(f"SELECT {_COLUMNS} {_FROM} WHERE UPPER(v.sku) = :upper ORDER BY v.sku LIMIT 2"
                        ).columns(options=JSONType, is_active=Boolean)
_CODES = text("SELECT sku, gtin FROM variant WHERE sku IN :codes OR gtin IN :gtins").bindparams(
    bindparam("codes", expanding=True, type_=String), bindparam("gtins", expanding=True, type_=String))
_SKUS_ANY_CASE = text("SELECT sku, UPPER(sku) AS upper FROM variant WHERE UPPER(sku) IN :uppers").bindparams(
    bindparam("uppers", expanding=True, type_=String))
# LOWER() is Unicode-aware on PostgreSQL and, through platform/db.py, on SQLite; :like is folded to match
_SEARCH = text(f"""SELECT {_COLUMNS} {_FROM}
WHERE v.is_active = :yes AND (LOWER(p.title) LIKE :like ESCAPE '\\' OR LOWER(COALESCE(t.title, '')) LIKE :like ESCAPE '\\'
       OR LOWER(p.brand) LIKE :like ESCAPE '\\' OR LOWER(v.sku) LIKE :like ESCAPE '\\' OR v.gtin = :exact)
ORDER BY p.title, v.sku LIMIT :limit""").bindparams(bindparam("yes", True, type_=Boolean)).columns(
    options=JSONType, is_active=Boolean)
_STORES = text("""SELECT id, code, name, city, latitude, longitude FROM location
WHERE kind = 'store' AND is_active = :yes""").bindparams(bindparam("yes", True, type_=Boolean)).columns(
    latitude=Float, longitude=Float)


@dataclass(frozen=True)
class Item:
    variant_id: int
    product_id: int
    sku: str
    gtin: str | None
    title: str
    options: dict
    is_active: bool

    @property
    def label(self) -> str:
        opts = ", ".join(str(v) for v in (self.options or {}).values())
        return f"{self.title} ({opts})" if opts else self.title


@dataclass(frozen=True)
class StoreStock:
    location_id: int
    code: str
    name: str
    city: str
    available: int
    distance_km: float | None  # None: this store


def _item(r) -> Item:
    return Item(r.variant_id, r.product_id, r.sku, r.gtin, r.title, r.options or {}, bool(r.is_active))


async def find_by_code(session: AsyncSession, code: str, *, locale: str = "en") -> Item:
    """The variant whose SKU or GTIN is ``code`` (the SKU wins when both match; a GTIN in any padding; a SKU
    in another case when no SKU or GTIN matches as written and only one SKU does so)."""
    code = (code or "").strip()
    params = {"code": code, "gtin": canonical_gtin(code), "locale": normalise_locale(locale)}
    row = (await session.execute(_BY_CODE, params)).first() if code else None
    if row is None and _may_be_sku(code):
        rows = (await session.execute(_BY_SKU_ANY_CASE, {**params, "upper": code.upper()})).all()
        row = rows[0] if len(rows) == 1 else None
    if row is None:
        raise NotFound(f"no product with the code {code!r}", field="code", code=code)
    return _item(row)


def _may_be_sku(code: str) -> bool:
    return bool(code) and len(code) <= rules.MAX_SKU and rules.CODE_RE.match(code) is not None


async def resolve_codes(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """Scanned or typed codes → the SKU each names, as :func:`find_by_code` reads one (unknown codes are left
    out); a few queries for any number of codes."""
    found: dict[str, str] = {}
    wanted = sorted({c.strip() for c in codes if c and c.strip()})
    for start in range(0, len(wanted), 500):
        chunk = wanted[start:start + 500]
        gtins = {c: g for c in chunk if (g := canonical_gtin(c))}
        rows = (await session.execute(_CODES, {"codes": chunk, "gtins": sorted(set(gtins.values()))})).all()
        by_sku = {r.sku for r in rows}
        by_gtin = {r.gtin: r.sku for r in rows if r.gtin}
        for c in chunk:
            if c in by_sku:
                found[c] = c
            elif gtins.get(c) in by_gtin:
                found[c] = by_gtin[gtins[c]]
        rest = {c.upper(): c for c in chunk if c not in found and _may_be_sku(c)}
        if rest:
            matches: dict[str, list[str]] = {}
            for r in await session.execute(_SKUS_ANY_CASE, {"uppers": sorted(rest)}):
                matches.setdefault(r.upper, []).append(r.sku)
            for upper, skus in matches.items():
                if len(skus) == 1 and upper in rest:
                    found[rest[upper]] = skus[0]
    return {c.strip(): found[c.strip()] for c in codes if c and c.strip() in found}


async def search(session: AsyncSession, query: str, *, locale: str = "en", limit: int = SEARCH_LIMIT) -> list[Item]:
    """Active variants whose title (or translated title), brand or SKU contains ``query``, or whose GTIN is it."""
    query = (query or "").strip()
    if not query:
        return []
    like = "%" + rules.fold_case(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await session.execute(_SEARCH, {"like": like, "exact": canonical_gtin(query) or query, "limit": limit,
                                           "locale": normalise_locale(locale)})
    return [_item(r) for r in rows]


async def unit_price(session: AsyncSession, *, channel_id: int, sku: str, principal: Principal,
                     at: datetime | None = None) -> Decimal | None:
    """The price the POS channel charges for one unit now, or None when it has none."""
    try:
        price = await pricing_service.resolve_channel_price(session, channel_id, sku, at=at or clock.now(),
                                                           principal=principal)
    except NotFound:
        return None
    return price.amount


async def stock_nearby(session: AsyncSession, *, sku: str, location_id: int, stores: int = NEARBY_STORES
                       ) -> tuple[StoreStock | None, list[StoreStock]]:
    """What this till may sell of ``sku`` at this store, and what the ``stores`` nearest other stores may
    promise."""
    levels, _ = await inventory_service.list_levels(session, sku=sku, limit=500)
    available = {x.location_id: x.on_hand - x.reserved if x.location_id == location_id else x.available
                 for x in levels}
    rows = (await session.execute(_STORES)).all()
    here_row = next((r for r in rows if r.id == location_id), None)

    def stock(r, km):
        return StoreStock(r.id, r.code, r.name, r.city, max(0, available.get(r.id, 0)), km)

    here = None if here_row is None else stock(here_row, None)
    others = []
    for r in rows:
        if r.id == location_id:
            continue
        km = None
        if here_row is not None and None not in (here_row.latitude, here_row.longitude, r.latitude, r.longitude):
            km = round(distance_km(here_row.latitude, here_row.longitude, r.latitude, r.longitude), 1)
        others.append(stock(r, km))
    others.sort(key=lambda s: (s.distance_km is None, s.distance_km or 0, s.name))
    return here, others[:stores]


def line_total(price: Decimal | None, quantity: int, currency: str) -> Decimal | None:
    return None if price is None else money.quantize(price * quantity, currency)
