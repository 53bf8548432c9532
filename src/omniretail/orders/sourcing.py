"""What placing an order reads, in three statements: the channel with its locations (and today's load), the
variants with their candidate prices, and the stock at the candidate locations. Then the routing request.

Other packages' tables are read here as plain SQL (no import of their models); the price rules are pricing's
pure ``rules`` module, so a price here is the one ``GET /channels/{id}/prices/{sku}`` explains.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Boolean, Date, Float, Integer, Numeric, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.channels import settings as channel_settings
from omniretail.inventory.availability import StockPolicy, promised_quantity
from omniretail.inventory.repository import takeable
from omniretail.locations import capacity
from omniretail.platform.db import DriverQuery
from omniretail.platform.models import JSONType, UTCDateTime
from omniretail.platform.ttl_cache import CHANNEL_SECONDS, TtlCache
from omniretail.pricing import rules as price_rules
from omniretail.routing.model import (
    ANY_ZONE,
    Candidate,
    OrderLine,
    RoutingPolicy,
    RoutingRequest,
    ShippingCostModel,
)

# Each capacity-limited location's load: live fulfilment orders assigned, and a manager's extra capacity, on each
# of the three dates that can be "today" somewhere (``capacity.candidate_days``); its timezone picks one
# (``capacity.pick_for_today``). Index probes on (location_id, assigned_day) and the override's primary key.
_CHANNEL = text("""
SELECT c.id, c.code, c.kind, c.currency, c.locale, c.prices_include_tax, c.is_active, c.settings, c.stock_policy,
       (SELECT o.id FROM sales_order o WHERE o.channel_id = c.id AND o.external_id = :external_id) AS existing_id,
       l.id AS location_id, l.code AS location_code, l.kind AS location_kind, l.latitude, l.longitude,
       l.country AS location_country, l.ships_orders, l.offers_pickup, l.offers_curbside, l.daily_capacity,
       l.is_active AS location_active,
       l.timezone, l.opening_hours, cl.location_id IS NOT NULL AS is_source,
       {load}
FROM channel c
LEFT JOIN location l ON l.id IN (SELECT location_id FROM channel_location WHERE channel_id = :channel_id)
                     OR l.id IN :extra
LEFT JOIN channel_location cl ON cl.channel_id = c.id AND cl.location_id = l.id
WHERE c.id = :channel_id
ORDER BY cl.priority, l.id""".format(load=",\n       ".join(
    f"CASE WHEN l.daily_capacity IS NULL THEN 0 ELSE (SELECT COUNT(*) FROM fulfilment_order f WHERE "
    f"f.location_id = l.id AND f.assigned_day = :day_{i} AND f.state <> 'cancelled') END AS assigned_{i}, "
    f"CASE WHEN l.daily_capacity IS NULL THEN 0 ELSE (SELECT x.extra FROM location_capacity x WHERE "
    f"x.location_id = l.id AND x.day = :day_{i}) END AS extra_{i}" for i in range(3)))).bindparams(
    bindparam("extra", expanding=True), *(bindparam(f"day_{i}", type_=Date()) for i in range(3))).columns(
    settings=JSONType, stock_policy=JSONType, prices_include_tax=Boolean, is_active=Boolean, latitude=Float,
    longitude=Float, ships_orders=Boolean, offers_pickup=Boolean, offers_curbside=Boolean,
    location_active=Boolean, is_source=Boolean, opening_hours=JSONType)
_CHANNEL_Q = DriverQuery(_CHANNEL, json=("settings", "stock_policy", "opening_hours"))
_EXISTING_Q = DriverQuery(text(
    "SELECT id FROM sales_order WHERE channel_id = :channel_id AND external_id = :external_id"))

# The channel and its locations, per process (``ttl_cache.CHANNEL_SECONDS``), unless a location has a daily
# capacity: its load changes with every order.
_contexts: TtlCache[ChannelContext] = TtlCache(CHANNEL_SECONDS)

VARIANTS_WITH_PRICES_SQL = """
SELECT v.id AS variant_id, v.sku, v.is_active, p.vat_rate, p.status,
       pl.id AS list_id, pl.code AS list_code, pl.priority, pl.currency AS list_currency,
       pl.channel_id AS list_channel_id, pl.is_active AS list_active, pl.valid_from AS list_from,
       pl.valid_to AS list_to, pl.prices_include_tax AS list_gross,
       pr.id AS price_id, pr.amount_minor, pr.valid_from AS price_from, pr.valid_to AS price_to
FROM variant v JOIN product p ON p.id = v.product_id
LEFT JOIN price pr ON pr.variant_id = v.id AND pr.price_list_id IN (
    SELECT id FROM price_list WHERE channel_id = :channel_id OR (channel_id IS NULL AND currency = :currency))
LEFT JOIN price_list pl ON pl.id = pr.price_list_id
WHERE v.sku IN :skus"""
_VARIANTS_WITH_PRICES = text(VARIANTS_WITH_PRICES_SQL).bindparams(bindparam("skus", expanding=True)).columns(
    vat_rate=Numeric(5, 4), is_active=Boolean, list_active=Boolean, list_gross=Boolean, list_from=UTCDateTime(),
    list_to=UTCDateTime(), price_from=UTCDateTime(), price_to=UTCDateTime())
_VARIANTS_WITH_PRICES_Q = DriverQuery(_VARIANTS_WITH_PRICES)

_VARIANTS = text("""
SELECT v.id AS variant_id, v.sku, v.is_active, p.vat_rate, p.status FROM variant v
JOIN product p ON p.id = v.product_id WHERE v.sku IN :skus""").bindparams(
    bindparam("skus", expanding=True)).columns(vat_rate=Numeric(5, 4), is_active=Boolean)
_VARIANTS_Q = DriverQuery(_VARIANTS)

# keyed by "a counter sale?": it may take the safety stock too (inventory.repository.takeable)
_STOCK_Q = {shelf: DriverQuery(text(f"""
SELECT variant_id, location_id, {takeable(shelf=shelf)} AS available FROM stock_level
WHERE variant_id IN :variants AND location_id IN :locations""").bindparams(
    bindparam("variants", expanding=True), bindparam("locations", expanding=True)).columns(available=Integer))
    for shelf in (False, True)}


@dataclass(frozen=True, slots=True)
class PlaceLocation:
    id: int
    code: str
    kind: str
    latitude: float | None
    longitude: float | None
    ships_orders: bool
    offers_pickup: bool
    offers_curbside: bool
    daily_capacity: int | None
    is_active: bool
    is_source: bool  # may fulfil the channel's orders
    assigned_today: int  # live fulfilment orders assigned on the location's local today
    timezone: str = capacity.DEFAULT_TIMEZONE
    opening_hours: dict[str, Any] | None = None
    extra_today: int = 0  # a manager's override of today's capacity
    country: str | None = None  # ISO 3166: where its parcels leave from (a zone table's "domestic")

    @property
    def capacity_left(self) -> int | None:
        cap = capacity.effective(self.daily_capacity, self.extra_today)
        return None if cap is None else max(0, cap - self.assigned_today)


@dataclass(frozen=True, slots=True)
class ChannelContext:
    id: int
    code: str
    kind: str
    currency: str
    locale: str
    prices_include_tax: bool
    is_active: bool
    settings: dict[str, Any]
    stock_policy: dict[str, Any]
    existing_order_id: int | None
    locations: tuple[PlaceLocation, ...]
    # the settings :meth:`setting` found valid; shared by the copies of a cached context (``replace``)
    checked: set[str] = field(default_factory=set, repr=False, compare=False)
    # what is worked out from the settings once per context (the stock policy read: ``holds.channel_policy``);
    # shared by the copies of a cached context, like ``checked``
    derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)
    # derived once (the context is cached and read by every placement)
    sources: tuple[PlaceLocation, ...] = field(init=False, repr=False, compare=False)  # may fulfil, active
    _by_id: dict[int, PlaceLocation] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", tuple(loc for loc in self.locations if loc.is_source and loc.is_active))
        object.__setattr__(self, "_by_id", {loc.id: loc for loc in self.locations})

    def setting(self, name: str, default: Any = None) -> Any:
        """A channel rule for orders: ``settings`` first, then ``stock_policy``. A known setting is checked as
        channels check it on write (``channels.settings``), once per context: a bad value stored before that
        check is a 422 naming it (``settings.routing_strategy``), not a crash further on."""
        if name in (self.settings or {}):
            where, value = "settings", self.settings[name]
        elif name in (self.stock_policy or {}):
            where, value = "stock_policy", self.stock_policy[name]
        else:
            return default
        if name not in self.checked:
            channel_settings.check_stored(name, value, channel_id=self.id, channel_code=self.code, where=where)
            self.checked.add(name)
        return value

    def check_settings(self, *names: str) -> None:
        """Check settings others read straight from ``settings`` (the promise clock) as :meth:`setting` does."""
        for name in names:
            self.setting(name)

    def location(self, location_id: int | None) -> PlaceLocation | None:
        return self._by_id.get(location_id)

    def derive(self, key: Any, make: Callable[[], Any]) -> Any:
        """A value worked out from the settings (a parsed policy, a rate table): made once per context and shared
        by its copies (``derived``)."""
        if key not in self.derived:
            self.derived[key] = make()
        return self.derived[key]


async def load_channel(session: AsyncSession, channel_id: int, *, external_id: str | None,
                       extra_location_ids: list[int], now: datetime) -> ChannelContext | None:
    """The channel, its locations and each one's load on its own local day (``locations.capacity``), and the
    order already placed with ``external_id``."""
    key = (channel_id, tuple(sorted(extra_location_ids)))
    cached = _contexts.get(key)
    if cached is not None:
        if external_id is None:
            return cached
        rows = await _EXISTING_Q.fetch(session, {"channel_id": channel_id, "external_id": external_id})
        return replace(cached, existing_order_id=rows[0]["id"] if rows else None)
    context = await _load_channel(session, channel_id, external_id=external_id,
                                  extra_location_ids=extra_location_ids, now=now)
    if context is not None and all(loc.daily_capacity is None for loc in context.locations):
        _contexts.put(key, replace(context, existing_order_id=None))
    return context


async def _load_channel(session: AsyncSession, channel_id: int, *, external_id: str | None,
                        extra_location_ids: list[int], now: datetime) -> ChannelContext | None:
    days = capacity.candidate_days(now)
    rows = await _CHANNEL_Q.fetch(session, {
        "channel_id": channel_id, "external_id": external_id, "extra": extra_location_ids or [-1],
        **{f"day_{i}": d for i, d in enumerate(days)}})
    if not rows:
        return None
    first = rows[0]
    locations = tuple(PlaceLocation(
        r["location_id"], r["location_code"], r["location_kind"], r["latitude"], r["longitude"],
        bool(r["ships_orders"]), bool(r["offers_pickup"]), bool(r["offers_curbside"]), r["daily_capacity"],
        bool(r["location_active"]), bool(r["is_source"]),
        capacity.pick_for_today(r["timezone"], now, (r["assigned_0"], r["assigned_1"], r["assigned_2"])),
        r["timezone"] or capacity.DEFAULT_TIMEZONE, r["opening_hours"] or {},
        capacity.pick_for_today(r["timezone"], now, (r["extra_0"], r["extra_1"], r["extra_2"])),
        r["location_country"])
        for r in rows if r["location_id"] is not None)
    return ChannelContext(first["id"], first["code"], first["kind"], first["currency"], first["locale"],
                          bool(first["prices_include_tax"]), bool(first["is_active"]), first["settings"] or {},
                          first["stock_policy"] or {}, first["existing_id"], locations)


@dataclass(frozen=True, slots=True)
class VariantInfo:
    variant_id: int
    sku: str
    is_active: bool
    tax_rate: Decimal
    price_minor: int | None = None  # resolved from the channel's price lists
    price_source: str = ""
    prices_include_tax: bool = True


async def load_variants(session: AsyncSession, *, channel: ChannelContext, skus: list[str], at: datetime,
                        with_prices: bool) -> dict[str, VariantInfo]:
    """The variants of ``skus`` (unknown SKUs are missing from the result), priced for the channel at ``at``
    when ``with_prices``."""
    unique = sorted(set(skus))
    if not with_prices:
        rows = await _VARIANTS_Q.fetch(session, {"skus": unique})
        return variants_from_rows(rows, channel=channel, at=at, with_prices=False)
    rows = await _VARIANTS_WITH_PRICES_Q.fetch(session, {
        "skus": unique, "channel_id": channel.id, "currency": channel.currency})
    return variants_from_rows(rows, channel=channel, at=at, with_prices=True)


def variants_from_rows(rows, *, channel: ChannelContext, at: datetime, with_prices: bool) -> dict[str, VariantInfo]:
    """Rows of the variants statement (one per variant and candidate price) → each SKU's variant, with the
    channel's price at ``at`` when ``with_prices``."""
    if not with_prices:
        return {r["sku"]: VariantInfo(r["variant_id"], r["sku"], bool(r["is_active"]) and r["status"] == "active",
                                      Decimal(r["vat_rate"] or 0)) for r in rows}
    grouped: dict[str, list] = {}
    for r in rows:
        grouped.setdefault(r["sku"], []).append(r)
    out = {}
    for sku, group in grouped.items():
        r0 = group[0]
        candidates = [price_rules.ListCandidate(
            id=r["list_id"], code=r["list_code"], priority=r["priority"], currency=r["list_currency"],
            channel_id=r["list_channel_id"], is_active=bool(r["list_active"]), valid_from=r["list_from"],
            valid_to=r["list_to"], prices_include_tax=bool(r["list_gross"]),
            price=price_rules.PriceRow(id=r["price_id"], amount_minor=r["amount_minor"],
                                       valid_from=r["price_from"], valid_to=r["price_to"]))
            for r in group if r["list_id"] is not None]
        winner = price_rules.resolve_price(candidates, currency=channel.currency, at=at).winner
        out[sku] = VariantInfo(
            r0["variant_id"], sku, bool(r0["is_active"]) and r0["status"] == "active", Decimal(r0["vat_rate"] or 0),
            winner.price.amount_minor if winner else None, f"price_list:{winner.code}" if winner else "",
            winner.prices_include_tax if winner else channel.prices_include_tax)
    return out


async def load_stock(session: AsyncSession, *, variant_ids: list[int], location_ids: list[int],
                     shelf: bool = False) -> dict[int, dict[int, int]]:
    """location → variant → available (on hand − reserved − safety stock; for a counter sale, ``shelf``, on hand
    − reserved)."""
    if not variant_ids or not location_ids:
        return {}
    rows = await _STOCK_Q[shelf].fetch(session, {"variants": sorted(set(variant_ids)),
                                          "locations": sorted(set(location_ids))})
    out: dict[int, dict[int, int]] = {}
    for r in rows:
        out.setdefault(r["location_id"], {})[r["variant_id"]] = max(0, int(r["available"]))
    return out


def within_promise(stock: dict[int, dict[int, int]], asked: Mapping[int, int], policy: StockPolicy,
                   location_order: Sequence[int]) -> dict[int, dict[int, int]]:
    """``stock`` (location → variant → available) as far as the channel may promise it: its stock policy
    (``inventory.availability``: buffer, share, keep last, cap, steps) turns the total of a variant at these
    locations into what the channel shows, and an order (``asked``: variant → units) may not take more than
    that. Where it asks more, the locations keep only that many units of the variant, the first in
    ``location_order`` first, and routing leaves the rest unfilled for the channel's unfillable policy. A
    variant the order asks no more of than is promised is left as it is: no plan can take more than asked."""
    if not policy.rules:
        return stock
    capped: dict[int, dict[int, int]] | None = None
    for variant_id, units in asked.items():
        total = sum(at.get(variant_id, 0) for at in stock.values())
        allowed = promised_quantity(total, policy)
        if units <= allowed:
            continue
        if capped is None:
            capped = {location_id: dict(at) for location_id, at in stock.items()}
        left = allowed
        for location_id in location_order:
            at = capped.get(location_id)
            if at is not None and variant_id in at:
                at[variant_id] = min(at[variant_id], left)
                left -= at[variant_id]
    return stock if capped is None else capped


# --- the routing request --------------------------------------------------------------------------------

class Destination(NamedTuple):
    latitude: float
    longitude: float
    country: str | None = None  # ISO 3166, for a zone table; None when unknown


def destination(channel: ChannelContext, *, address: dict[str, Any] | None, point_id: int | None,
                candidates: tuple[PlaceLocation, ...]) -> Destination:
    """Where the parcel goes: the address's coordinates, the pickup point's, else the middle of the
    candidates (no geocoding here: every candidate is then about as far, and stock and parcels decide); and the
    address's (or the pickup point's) country."""
    point = channel.location(point_id)
    country = (address or {}).get("country") or (point.country if point is not None else None)
    if address and address.get("latitude") is not None and address.get("longitude") is not None:
        return Destination(float(address["latitude"]), float(address["longitude"]), country)
    if point is not None and point.latitude is not None and point.longitude is not None:
        return Destination(point.latitude, point.longitude, country)
    placed = [c for c in candidates if c.latitude is not None and c.longitude is not None]
    if not placed:
        return Destination(0.0, 0.0, country)
    return Destination(sum(c.latitude for c in placed) / len(placed), sum(c.longitude for c in placed) / len(placed),
                       country)


DOMESTIC = "domestic"  # in a zone table: a parcel that stays in its location's country


def parcel_zone(location: PlaceLocation, country: str | None, zone_costs: dict[str, Any]) -> str | None:
    """The key of ``zone_costs`` (a channel's ``shipping_cost_model.zone_costs``) that prices a parcel from
    ``location`` to ``country``: ``"domestic"`` within the location's country, else the destination's country
    code; ``"*"`` when that key is not listed. None when the destination's country is unknown."""
    if country is None:
        return None
    lane = DOMESTIC if location.country is not None and location.country == country else country
    return lane if lane in zone_costs or ANY_ZONE not in zone_costs else ANY_ZONE


def routing_request(channel: ChannelContext, *, lines: list[OrderLine], candidates: tuple[PlaceLocation, ...],
                    stock: dict[int, dict[int, int]], dest: Destination, collected: bool,
                    counter: bool = False) -> RoutingRequest:
    """``collected``: the customer fetches the order at the (single) candidate, which need not ship;
    ``counter``: a sale at the till, which takes no fulfilment capacity.

    A candidate without coordinates cannot be priced by distance: routing leaves it out ("no coordinates"),
    rather than measuring it as if it stood at the customer's door (it would win every order). Only where
    distance cannot decide anyway, a collected order or no candidate placed at all, does it stand at the
    destination, so that stock and parcels decide.

    A channel whose ``shipping_cost_model`` has ``zone_costs`` prices each parcel by its lane instead
    (:func:`parcel_zone`); a location whose lane has no rate is left out ("no shipping rate"). A collected
    order ships nothing, and is priced as before."""
    at_destination = collected or not any(c.latitude is not None and c.longitude is not None for c in candidates)
    protection = 0 if collected else int(channel.setting("store_protection", 0) or 0)
    fee = channel.setting("shipping_cost_model") or {}
    zone_costs = None if collected else fee.get("zone_costs")
    costs = ShippingCostModel(**{k: float(v) for k, v in fee.items()
                                 if k in ("parcel_base", "per_km", "per_unit_km", "split_penalty")},
                              zone_costs=None if zone_costs is None else {
                                  k: float(v) for k, v in zone_costs.items()})
    policy = RoutingPolicy(allow_split=bool(channel.setting("allow_split", True)) and not collected,
                           max_parcels=channel.setting("max_parcels"))
    return RoutingRequest(
        lines=tuple(lines), destination_latitude=dest[0], destination_longitude=dest[1], costs=costs,
        policy=policy, candidates=tuple(Candidate(
            location_id=c.id, **_coordinates(c, dest, at_destination=at_destination), kind=c.kind,
            can_ship=True if collected else c.ships_orders,
            capacity_left=None if counter else c.capacity_left,
            stock=stock.get(c.id, {}), store_protection=protection if c.kind == "store" else 0, code=c.code,
            zone=None if zone_costs is None else parcel_zone(c, dest.country, zone_costs),
        ) for c in candidates))


def _coordinates(location: PlaceLocation, dest: tuple[float, float], *, at_destination: bool
                 ) -> dict[str, float | None]:
    if location.latitude is not None and location.longitude is not None:
        return {"latitude": location.latitude, "longitude": location.longitude}
    if at_destination:
        return {"latitude": dest[0], "longitude": dest[1]}
    return {"latitude": None, "longitude": None}
