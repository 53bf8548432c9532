"""Placing an order from any channel: the hot path.

Statements for a two-line order from a known customer, routed to one location (PostgreSQL): the channel with
its locations and an existing order of the same external id (1), variants with their prices (1), stock at the
candidate locations (1), the customer match (1), the order claimed with ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` (1), its lines (1, executemany), one reservation per line and location (1 each: inventory's
one-statement CTE), the fulfilment orders (1), the timeline (1) and the outbox (1) — 11. A new channel identity
adds 1, a new customer 3. On SQLite a reservation is three statements.

The order row is claimed before anything else is written (only the customer's identity, which is itself
idempotent, comes first), so a duplicate import that loses the race leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.channels import settings as channel_settings
from omniretail.customers import service as customers_service
from omniretail.customers.normalise import phone_region
from omniretail.customers.schemas import CustomerDetails
from omniretail.inventory import service as inventory_service
from omniretail.inventory.repository import is_postgresql
from omniretail.platform import clock, money
from omniretail.platform.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from omniretail.routing.model import OrderLine as RoutingLine
from omniretail.routing.solver import solve

from . import holds, placement_pg, placement_rows, reroute, ship_to_store, sourcing, totals, vat
from .models import FulfilmentOrder, Order, OrderLine
from .placement_one_statement import place_in_one_statement
from .placement_rows import Placed
from .schemas import Delivery, OrderCreate, OrderImport
from .states import AT_ONE_STORE, OrderState

ORDERS, LINES, FULFILMENT = Order.__table__, OrderLine.__table__, FulfilmentOrder.__table__
UNFILLABLE = channel_settings.UNFILLABLE  # the values of the channel setting ``unfillable``
# Channel settings orders.promise reads straight from ``settings`` (through placement_rows): checked up front.
PROMISE_SETTINGS = ("transfer_days", "pickup_promise_hours")
UNPAID = ("pending",)


class OrderUnfillable(Conflict):
    code, title = "order-unfillable", "Not enough stock to fill the order"


@dataclass(frozen=True)
class PlacementLine:
    sku: str
    quantity: int
    unit_price: Decimal | None = None  # given by the channel (imports); None: the channel's price list
    discount: Decimal = Decimal(0)
    tax_rate: Decimal | None = None  # the rate the channel charged (imports); None: the product's


@dataclass(frozen=True)
class Placement:
    """An order as any channel hands it over, before validation."""

    channel_id: int
    delivery: Delivery
    lines: list[PlacementLine]
    external_id: str | None = None
    customer: CustomerDetails | None = None
    payment_status: str = "pending"
    shipping_amount: Decimal | None = None
    origin_location_id: int | None = None
    note: str = ""
    placed_at: datetime | None = None
    revision: int | None = None
    currency: str | None = None
    imported: bool = False

    @classmethod
    def from_create(cls, data: OrderCreate) -> Placement:
        return cls(channel_id=data.channel_id, delivery=data.delivery, external_id=data.external_id,
                   lines=[PlacementLine(x.sku, x.quantity) for x in data.lines], customer=data.customer,
                   payment_status=data.payment_status.value, shipping_amount=data.shipping_amount,
                   origin_location_id=data.origin_location_id, note=data.note)

    @classmethod
    def from_import(cls, data: OrderImport) -> Placement:
        return cls(channel_id=data.channel_id, delivery=data.delivery, external_id=data.external_id,
                   lines=[PlacementLine(x.sku, x.quantity, x.unit_price, x.discount, x.tax_rate) for x in data.lines],
                   customer=data.buyer, payment_status=data.payment_status.value,
                   shipping_amount=data.shipping_amount, note=data.note, placed_at=data.placed_at,
                   revision=data.revision, currency=data.currency, imported=True)


@dataclass
class _Line:
    position: int
    sku: str
    variant_id: int
    quantity: int
    unit_price: int
    discount: int
    tax_rate: Decimal
    gross: bool
    price_source: str
    allocated: int = 0
    backordered: int = 0
    cancelled: int = 0
    values: dict = field(default_factory=dict)


# --- checks -------------------------------------------------------------------------------------------

def _check_access(channel: sourcing.ChannelContext | None, placement: Placement, principal: Principal
                  ) -> int | None:
    """The channel exists for this principal; returns the origin store (staff orders)."""
    if channel is None or (principal.channel_ids is not None and channel.id not in principal.channel_ids):
        raise NotFound(f"channel {placement.channel_id} not found")
    if principal.location_ids is not None and not {x.id for x in channel.sources} & principal.location_ids:
        raise NotFound(f"channel {placement.channel_id} not found")
    if not channel.is_active:
        raise InvalidInput(f"channel {channel.code} is not active", field="channel_id")
    if placement.currency and placement.currency.upper() != channel.currency:
        raise InvalidInput(f"channel {channel.code} sells in {channel.currency}", field="currency")
    origin = placement.origin_location_id
    if principal.location_ids is not None:
        if origin is None and len(principal.location_ids) == 1:
            origin = next(iter(principal.location_ids))
        if origin is None or origin not in principal.location_ids:
            raise PermissionDenied("a store associate places orders for their own store",
                                   field="origin_location_id")
    if origin is not None and channel.location(origin) is None:
        raise InvalidInput(f"unknown location {origin}", field="origin_location_id")
    return origin


def _candidates(channel: sourcing.ChannelContext, delivery: Delivery) -> tuple[tuple, bool]:
    """The locations that may fulfil, and whether the customer collects (pickup, curbside)."""
    if delivery.method in AT_ONE_STORE:
        store = channel.location(delivery.pickup_location_id)
        flag = {"curbside": "offers_curbside", "counter": "is_source"}.get(delivery.method, "offers_pickup")
        if store is None or not store.is_source or not store.is_active or not getattr(store, flag):
            raise InvalidInput(f"location {delivery.pickup_location_id} does not offer {delivery.method} for "
                               f"channel {channel.code}", field="delivery.pickup_location_id")
        return (store,), True
    if delivery.method == "pickup_point" and delivery.pickup_location_id is not None \
            and channel.location(delivery.pickup_location_id) is None:
        raise InvalidInput(f"unknown pickup point {delivery.pickup_location_id}",
                           field="delivery.pickup_location_id")
    return channel.sources, False


def _minor(amount: Decimal, currency: str, field_name: str) -> int:
    try:
        return money.to_minor(money.parse_amount(amount, currency), currency)
    except money.MoneyError as exc:
        raise InvalidInput(str(exc), field=field_name) from None


def _price_lines(channel: sourcing.ChannelContext, placement: Placement,
                 variants: dict[str, sourcing.VariantInfo]) -> list[_Line]:
    unknown = sorted({x.sku for x in placement.lines} - set(variants))
    if unknown:
        raise InvalidInput(f"unknown SKU(s): {', '.join(unknown[:20])}", field="lines", unknown_skus=unknown)
    inactive = sorted({x.sku for x in placement.lines if not variants[x.sku].is_active})
    if inactive and not placement.imported:
        raise InvalidInput(f"not for sale: {', '.join(inactive[:20])}", field="lines", inactive_skus=inactive)
    address = placement.delivery.address  # what is collected at a store is sold there
    country = address.country if address is not None and placement.delivery.method not in AT_ONE_STORE else None
    table = channel.derive("vat_by_country", lambda: vat.rate_table(channel.setting("vat_by_country"))) \
        if country else {}
    out = []
    for position, line in enumerate(placement.lines, start=1):
        v = variants[line.sku]
        if placement.imported:
            price = _minor(line.unit_price, channel.currency, f"lines.{position - 1}.unit_price")
            source, gross = "channel", channel.prices_include_tax
        else:
            if v.price_minor is None:
                raise InvalidInput(f"SKU {line.sku} has no price on channel {channel.code}", field="lines",
                                   sku=line.sku)
            price, source, gross = v.price_minor, v.price_source, v.prices_include_tax
        discount = _minor(line.discount, channel.currency, f"lines.{position - 1}.discount")
        # a marketplace taxes a sale abroad at the buyer's country's rate, which the import may carry; else the
        # channel's table of rates abroad (orders.vat)
        rate = line.tax_rate if placement.imported and line.tax_rate is not None else vat.line_rate(
            v.tax_rate, country=country, table=table)
        out.append(_Line(position, line.sku, v.variant_id, line.quantity, price, discount, rate, gross, source))
    return out


def _unfillable_policy(channel: sourcing.ChannelContext, placement: Placement) -> str:
    """One of ``UNFILLABLE``: ``setting`` refuses any other stored value (a 422 naming settings.unfillable)."""
    return channel.setting("unfillable") or ("backorder" if placement.imported else "reject")


def _allocate(lines: list[_Line], plan, policy: str, stock: dict[int, dict[int, int]] | None = None) -> None:
    """Units each line gets from the plan; the rest is backordered, cancelled or refuses the order. A short
    line reports what the locations that may serve the order have of it (``stock``: location → variant →
    available), which can be more than the plan took (one location per line, a store's last units kept)."""
    short = []
    for line in lines:
        line.allocated = plan.shipped(line.position)
        missing = line.quantity - line.allocated
        if missing:
            available = max(line.allocated, sum(units.get(line.variant_id, 0) for units in (stock or {}).values()))
            short.append({"sku": line.sku, "requested": line.quantity, "available": available})
            if policy == "backorder":
                line.backordered = missing
            else:
                line.cancelled = missing
    nothing_left = all(x.allocated == 0 for x in lines)
    if short and (policy == "reject" or (policy == "cancel_line" and nothing_left)):
        raise OrderUnfillable(f"not enough stock for {', '.join(s['sku'] for s in short)}", lines=short,
                              policy=policy)


# --- the operation --------------------------------------------------------------------------------------

async def place_order(session: AsyncSession, *, placement: Placement, principal: Principal, actor: str
                      ) -> Placed:
    now = clock.now()
    delivery = placement.delivery
    extra = [x for x in (delivery.pickup_location_id, placement.origin_location_id) if x is not None]
    channel = await sourcing.load_channel(session, placement.channel_id, external_id=placement.external_id,
                                          extra_location_ids=extra,
                                          now=now)
    origin = _check_access(channel, placement, principal)
    if channel.existing_order_id is not None:
        return Placed(channel.existing_order_id, created=False)
    channel.check_settings(*PROMISE_SETTINGS)
    candidates, collected = _candidates(channel, delivery)
    skus = [x.sku for x in placement.lines]
    region = phone_region(country=delivery.address.country if delivery.address else None, locale=channel.locale)
    buyer, match_params = customers_service.match_request(placement.customer, channel_id=channel.id,
                                                          default_locale=channel.locale, region=region)
    read = None
    if is_postgresql(session):  # one round trip: variants, prices, stock, the buyer and ids (placement_pg)
        read = await placement_pg.read(session, channel=channel, skus=skus, location_ids=[c.id for c in candidates],
                                       match_params=match_params, at=now, with_prices=not placement.imported)
        variants = read.variants
    else:
        variants = await sourcing.load_variants(session, channel=channel, skus=skus, at=now,
                                                with_prices=not placement.imported)
    lines = _price_lines(channel, placement, variants)
    # a counter sale may take the safety stock (inventory.repository.takeable): the units are in the customer's
    # hands; the read gives what may be promised, so its stock is read again
    shelf = delivery.method == "counter"
    stock = read.stock if read is not None and not shelf else await sourcing.load_stock(
        session, variant_ids=[x.variant_id for x in lines], location_ids=[c.id for c in candidates], shelf=shelf)
    if not shelf and not placement.imported:  # a native order takes no more than availability shows
        asked: dict[int, int] = {}
        for x in lines:
            asked[x.variant_id] = asked.get(x.variant_id, 0) + x.quantity
        stock = sourcing.within_promise(stock, asked, holds.channel_policy(channel, with_settings=False),
                                        [c.id for c in candidates])
    address = delivery.address.model_dump(exclude_none=True) if delivery.address else None
    dest = sourcing.destination(channel, address=address, point_id=delivery.pickup_location_id,
                                candidates=candidates)
    request = sourcing.routing_request(
        channel, lines=[RoutingLine(x.position, x.variant_id, x.quantity) for x in lines], candidates=candidates,
        stock=stock, dest=dest, collected=collected, counter=shelf)
    strategy = channel.setting("routing_strategy", "greedy")
    # the runner-up shows what the choice saved; under the optimal strategy the cheaper greedy alternative, not
    # a second solve (which would about triple the solver's time per order)
    explanation = solve(request, strategy, runner_up_solve=False)
    store_plan = None
    if collected and explanation.plan.unfilled:  # the pickup store lacks some: ship_to_store.py
        store_plan = await ship_to_store.plan(session, channel, delivery_method=delivery.method,
                                              store=candidates[0], lines=list(request.lines),
                                              explanation=explanation, strategy=strategy)
        explanation = store_plan.explanation if store_plan else explanation
    methods = store_plan.methods if store_plan else None
    plan = explanation.plan
    if plan.unfilled_units or placement.payment_status in UNPAID:  # not a paid order in stock: holds.py
        plan = await holds.adjust_plan(session, channel=channel, lines=lines, plan=plan,
                                       unpaid=placement.payment_status in UNPAID)
    _allocate(lines, plan, _unfillable_policy(channel, placement), stock)

    line_amounts = []
    for x in lines:
        amounts, allocated = totals.charge(x)
        line_amounts.append(amounts)
        x.values = {"position": x.position, "variant_id": x.variant_id, "sku": x.sku, "quantity": x.quantity,
                    "unit_price_minor": x.unit_price, "tax_rate": x.tax_rate, "price_source": x.price_source,
                    **allocated}
    if placement.shipping_amount is not None:
        shipping = _minor(placement.shipping_amount, channel.currency, "shipping_amount")
    elif not collected:
        shipping = _minor(Decimal(str(channel.setting("shipping_fee", "0"))), channel.currency,
                          "settings.shipping_fee")
    else:
        shipping = 0
    # the shipping is charged in the channel's convention and taxed like the goods (totals.shipping_tax)
    amounts = totals.order_amounts(line_amounts, shipping=shipping, prices_include_tax=channel.prices_include_tax)

    if read is not None:
        match = customers_service.pick_match(buyer, read.customer_rows)
    elif match_params is None:
        match = buyer
    else:
        match = await customers_service.find_customer(session, channel_id=channel.id, details=placement.customer,
                                                      default_locale=channel.locale, region=region)
    one_statement = (read is not None and read.ids is not None and store_plan is None and plan is explanation.plan
                     and plan.assignments and not match.fill)
    if match.customer_id is not None and not one_statement:
        match = await customers_service.ensure_identity(session, match=match, channel_id=channel.id)
    consent = placement.customer.marketing_consent if placement.customer else None
    if consent is not None and match.customer_id is not None:  # asked again at checkout: a "no" counts at once
        await customers_service.record_consent(session, customer_id=match.customer_id, consent=consent)
    contact = {k: v for k, v in (("name", match.name), ("email", match.email), ("phone", match.phone)) if v}
    state = OrderState.PENDING_PAYMENT if placement.payment_status in UNPAID else OrderState.CONFIRMED
    order = {
        "channel_id": channel.id, "external_id": placement.external_id, "customer_id": match.customer_id,
        "customer_identity_id": match.identity_id, "contact": contact, "currency": channel.currency,
        "locale": match.locale, "state": state.value, "payment_status": placement.payment_status,
        "delivery_method": delivery.method.value, "pickup_location_id": delivery.pickup_location_id,
        "origin_location_id": origin, "shipping_address": address, "subtotal_minor": amounts.subtotal,
        "discount_minor": amounts.discount, "tax_minor": amounts.tax, "shipping_minor": amounts.shipping,
        "total_minor": amounts.total, "prices_include_tax": channel.prices_include_tax,
        "channel_revision": placement.revision, "routing": {**placement_rows.routing_summary(explanation), **(store_plan.summary if store_plan else {})}, "note": placement.note,
        "cancel_reason": None, "placed_at": placement.placed_at or now, "updated_at": now,
    }
    if one_statement:
        placed = await place_in_one_statement(
            session, order=order, lines=lines, plan=plan, match=match, read=read, channel=channel, state=state,
            imported=placement.imported, actor=actor, now=now, shelf=shelf)
        if placed is not None:
            return placed
        if match.customer_id is not None:  # the general path records what the one statement did not
            match = await customers_service.ensure_identity(session, match=match, channel_id=channel.id)
            order["customer_id"], order["customer_identity_id"] = match.customer_id, match.identity_id
    order_id = await _claim(session, order, now=now)
    if order_id is None:
        return Placed(await _existing_id(session, channel.id, placement.external_id), created=False)
    order["id"] = order_id
    if match.customer_id is None and match.key is not None:
        match = await customers_service.create_customer(session, match=match, channel_id=channel.id)
        order["customer_id"], order["customer_identity_id"] = match.customer_id, match.identity_id
        await session.execute(update(ORDERS).where(ORDERS.c.id == order_id).values(
            customer_id=match.customer_id, customer_identity_id=match.identity_id))

    line_rows = [{**x.values, "order_id": order_id} for x in lines]
    # mapped back by position: a batched RETURNING need not come back in the order of the rows
    returned = dict((await session.execute(insert(LINES).returning(LINES.c.position, LINES.c.id),
                                           line_rows)).all())
    line_ids = [returned[row["position"]] for row in line_rows]
    for row, line_id in zip(line_rows, line_ids, strict=True):
        row["id"] = line_id
    try:
        fulfilment = await _fulfil(session, order=order, lines=lines, line_ids=line_ids, plan=plan, now=now,
                                   channel=channel, methods=methods, shelf=shelf)
    except inventory_service.ReservationShortfall as lost:  # another order took the stock first: reroute.py
        plan, fulfilment = await reroute.after_lost_race(
            session, lost, channel=channel, request=request, strategy=strategy, plan=plan,
            unpaid=placement.payment_status in UNPAID, policy=_unfillable_policy(channel, placement),
            lines=lines, line_rows=line_rows, line_ids=line_ids, order=order, now=now, allocate=_allocate,
            fulfil=partial(_fulfil, channel=channel, methods=methods, shelf=shelf), shelf=shelf)
    if store_plan:  # the transfers and the pickup store's awaiting_transfer fulfilment orders
        fulfilment += await ship_to_store.link(session, store_plan, order=order, fulfilment_rows=fulfilment,
                                               channel=channel, actor=actor, now=now)
    if plan is not explanation.plan:  # unpaid holds, pre-orders
        await holds.after_fulfil(session, plan, order=order, lines=lines, line_rows=line_rows)

    timeline = placement_rows.timeline(order, lines=lines, line_ids=line_ids, fulfilment=fulfilment, match=match,
                         channel=channel, state=state, imported=placement.imported, actor=actor, now=now)
    event_ids = await timeline.write(session, returning=True)
    return placement_rows.placed(order, line_rows=line_rows, fulfilment=fulfilment, timeline=timeline, entry_ids=event_ids)


async def _claim(session: AsyncSession, order: dict, *, now: datetime) -> int | None:
    """Insert the order unless (channel, external id) exists; None when it does. A clash on the random
    number (rare) is retried with a new one."""
    ins = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    for _attempt in range(3):
        order["number"] = placement_rows.order_number(now)
        stmt = ins(ORDERS).values(**order).on_conflict_do_nothing().returning(ORDERS.c.id)
        order_id = (await session.execute(stmt)).scalar_one_or_none()
        if order_id is not None or order["external_id"] is not None:
            return order_id
    raise Conflict("could not allocate an order number; retry")


async def _existing_id(session: AsyncSession, channel_id: int, external_id: str | None) -> int:
    found = (await session.execute(select(ORDERS.c.id).where(
        ORDERS.c.channel_id == channel_id, ORDERS.c.external_id == external_id))).scalar_one_or_none()
    if found is None:  # the clash was the order number, not the external id
        raise Conflict("could not allocate an order number; retry")
    return found


async def _fulfil(session: AsyncSession, *, order: dict, lines: list[_Line], line_ids, plan, now: datetime,
                  channel: sourcing.ChannelContext, methods: dict[int, str] | None = None, shelf: bool = False
                  ) -> list[dict]:
    """Reserve the planned units (in inventory's lock order) and write one fulfilment order per location
    (``methods``: a location's own delivery method, e.g. a ship-to-store leg), each with its promise.
    ``shelf``: a counter sale, which may take the safety stock."""
    by_position = {x.position: x for x in lines}
    wanted = [{"variant_id": by_position[a.line_id].variant_id, "location_id": a.location_id,
               "quantity": a.quantity, "reference": f"order:{order['id']}/line:{line_ids[a.line_id - 1]}"}
              for a in plan.assignments]
    if not wanted:
        return []
    reserved = await inventory_service.reserve_lines(session, lines=wanted, kind="order_line",
                                                     channel_id=order["channel_id"], shelf=shelf)
    lock_order = sorted(range(len(wanted)), key=lambda i: (wanted[i]["variant_id"], wanted[i]["location_id"]))
    reservation_of = {i: reserved[k].reservation_id for k, i in enumerate(lock_order)}
    rows = placement_rows.fulfilment_rows(order, lines=lines, line_ids=line_ids, plan=plan, reservation_of=reservation_of,
                            channel=channel, methods=methods, now=now)
    ids = dict((await session.execute(insert(FULFILMENT).returning(FULFILMENT.c.location_id, FULFILMENT.c.id),
                                      rows)).all())
    for row in rows:
        row["id"] = ids[row["location_id"]]
    return rows
