"""What a customer's decline link offers, read for the page it opens (``web/decline_pages``).

The link (``decline.decline_link``) names one order line. Its page shows the order, the line (the product's
title in the order's locale) and what changed that can still be declined — the same units
``decline.decline_line`` would cancel: re-routed legs not on their way yet (collected at another store, or sent
to the customer's store first) and backordered units. When nothing is left, ``previous`` tells whether the
customer already declined it (and what was refunded) or it is simply too late (picked, shipped).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, String, and_, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.locations import service as locations_service
from omniretail.platform.errors import NotFound
from omniretail.platform.i18n import normalise_locale

from . import decline, service
from .states import COLLECTED, SHIP_TO_STORE
from .tables import channel_t

FULFILMENT, LINES, EVENTS = service.FULFILMENT, service.LINES, service.EVENTS
_SYSTEM = Principal.system("orders.decline_offer")

# the catalog's tables, as far as the page needs a product's name (as ``messages`` reads them)
_variant_t = table("variant", column("id", BigInteger), column("product_id", BigInteger))
_product_t = table("product", column("id", BigInteger), column("title", String))
_translation_t = table("product_translation", column("product_id", BigInteger), column("locale", String),
                       column("title", String))


@dataclass(frozen=True)
class Leg:
    """Re-routed units still to come. ``kind``: ``another_store`` (collected at ``store``), ``ship_to_store``
    (sent to the customer's pickup store, ``store``, first: later) or ``another_location`` (a delivered order
    sent from ``store`` instead)."""

    quantity: int
    store: str
    kind: str


@dataclass(frozen=True)
class Previous:
    """The customer already declined this line through the link: how many units and the refund, if paid."""

    quantity: int
    refund_amount: Decimal | None


@dataclass
class DeclineOffer:
    order_id: int
    order_number: str
    locale: str
    currency: str
    shop_name: str
    line_id: int
    sku: str
    title: str
    ordered: int
    legs: list[Leg] = field(default_factory=list)
    backordered: int = 0
    previous: Previous | None = None

    @property
    def units(self) -> int:
        """What declining now would cancel and refund."""
        return sum(leg.quantity for leg in self.legs) + self.backordered


async def order_locale(session: AsyncSession, order_id: int) -> str | None:
    """The order's language (for a page about it that cannot be shown: a bad or expired link)."""
    row = await service.order_row(session, order_id)
    return None if row is None else normalise_locale(row["locale"])


async def read_offer(session: AsyncSession, order_id: int, line_id: int, *, token: str,
                     secret_key: str | None = None) -> DeclineOffer:
    """The offer behind a signed link; ``decline.InvalidLink`` for a bad or expired token, NotFound when the
    line is gone."""
    decline.check_token(order_id, line_id, token, secret_key=secret_key)
    order = await service.order_row(session, order_id)
    locale = normalise_locale(order["locale"]) if order is not None else "en"
    local = _translation_t.alias("local")
    line = None if order is None else (await session.execute(
        select(LINES, _product_t.c.title.label("product_title"), local.c.title.label("local_title"))
        .select_from(LINES.join(_variant_t, _variant_t.c.id == LINES.c.variant_id)
                     .join(_product_t, _product_t.c.id == _variant_t.c.product_id)
                     .outerjoin(local, and_(local.c.product_id == _product_t.c.id, local.c.locale == locale)))
        .where(LINES.c.id == line_id, LINES.c.order_id == order_id))).first()
    if line is None:
        raise NotFound(f"order line {line_id} not found")
    settings = (await session.execute(select(channel_t.c.settings).where(
        channel_t.c.id == order["channel_id"]))).scalar_one_or_none() or {}
    offer = DeclineOffer(
        order_id=order_id, order_number=order["number"], locale=locale, currency=order["currency"],
        shop_name=str(settings.get("shop_name") or ""), line_id=line_id, sku=line.sku,
        title=(line.local_title or "").strip() or line.product_title or line.sku, ordered=line.quantity,
        backordered=line.quantity_backordered)
    fos = (await session.execute(select(FULFILMENT).where(
        FULFILMENT.c.order_id == order_id, FULFILMENT.c.state.in_(decline.DECLINABLE))
        .order_by(FULFILMENT.c.id))).all()
    for fo in (f._mapping for f in fos):
        units = sum(ln["quantity"] for ln in decline.declinable_legs(fo, line_id))
        if not units:
            continue
        if fo["delivery_method"] == SHIP_TO_STORE and order["pickup_location_id"]:
            kind, where = "ship_to_store", order["pickup_location_id"]
        else:
            kind = "another_store" if fo["delivery_method"] in COLLECTED else "another_location"
            where = fo["location_id"]
        offer.legs.append(Leg(units, await _store_name(session, where), kind))
    if not offer.units:
        offer.previous = await previous_decline(session, order_id, line_id)
    return offer


async def previous_decline(session: AsyncSession, order_id: int, line_id: int) -> Previous | None:
    """What the customer's earlier decline of the line did, from the order's timeline (None: never declined)."""
    rows = (await session.execute(select(EVENTS.c.kind, EVENTS.c.data).where(
        EVENTS.c.order_id == order_id, EVENTS.c.actor == decline.ACTOR,
        EVENTS.c.kind.in_(("line.declined", "refund.created"))).order_by(EVENTS.c.id))).all()
    ours: list[dict[str, Any]] = [(kind, data or {}) for kind, data in rows
                                  if (data or {}).get("order_line_id") == line_id]
    declined = sum(int(d.get("quantity") or 0) for kind, d in ours if kind == "line.declined")
    if not declined:
        return None
    refunds = [Decimal(str(d["amount"])) for kind, d in ours if kind == "refund.created" and d.get("amount")]
    return Previous(declined, sum(refunds, Decimal(0)) if refunds else None)


async def _store_name(session: AsyncSession, location_id: int) -> str:
    try:
        loc = await locations_service.get_location(session, location_id, principal=_SYSTEM)
    except NotFound:
        return ""
    return loc.name
