"""What a customer message shows (``orders/messages.py`` composes one for each message intent): the order as
it is now — its lines with the product title in the order's locale (the catalog's tables, read as plain SQL),
totals, currency and contact, the fulfilment order and its store, the shipment, the return, the refund — as
the data of a ``notifications.schemas.NotifyPayload``. Every amount is in the order's currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import BigInteger, String, and_, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.channels import settings as channel_settings
from omniretail.channels.schemas import MARKETPLACE_NAMES
from omniretail.customers import service as customers_service
from omniretail.locations import service as locations_service
from omniretail.platform.errors import NotFound
from omniretail.platform.i18n import country_zone, known_zone, normalise_locale
from omniretail.platform.jobs import Event, Undeliverable
from omniretail.platform.money import from_minor

from . import decline, imports, pickup_codes, pickup_deadline, service
from .returns_models import ReturnLine, SalesReturn
from .returns_schemas import RefundMethod
from .states import FulfilmentState, OrderState
from .tables import channel_t
from .timeline import NOTIFY

ACTOR = "system:orders.messages"
DEFAULT_CANCEL_REASON = "The order was cancelled by the shop. Contact us if you have any questions."
# The reasons the hub words itself (in English, for staff) → the code the template words in the customer's
# language (``notifications.schemas.CancelCode``); a reason staff typed is shown as written.
CANCEL_CODES = {
    imports.BUYER_CANCELLED: "buyer_cancelled",
    "declined by the customer": "declined",  # orders/decline.py
    DEFAULT_CANCEL_REASON: "unspecified",
}
# a fulfilment order whose units all left: shipped, handed over or delivered
_GONE = frozenset({FulfilmentState.SHIPPED, FulfilmentState.HANDED_OVER, FulfilmentState.DELIVERED})

LINES, FULFILMENT, SHIPMENTS, EVENTS = service.LINES, service.FULFILMENT, service.SHIPMENTS, service.EVENTS
_SYSTEM = Principal.system(ACTOR)
_RETURNS, _RETURN_LINES = SalesReturn.__table__, ReturnLine.__table__

# the catalog's tables, as far as a message needs a product's name (no import of its models)
_variant_t = table("variant", column("id", BigInteger), column("product_id", BigInteger))
_product_t = table("product", column("id", BigInteger), column("title", String))
_translation_t = table("product_translation", column("product_id", BigInteger), column("locale", String),
                       column("title", String))


@dataclass
class _Line:
    id: int
    sku: str
    name: str
    unit_price_minor: int
    charged: int  # the units the customer pays (or paid, for a cancelled order) for
    state: str = ""  # allocated | backordered | preordered | awaiting_payment | cancelled


class MessageComposer:
    """Reads what one message shows; every amount in the order's currency, names in the order's locale."""

    def __init__(self, session: AsyncSession, order, event: Event) -> None:
        self.session, self.order, self.event = session, order, event
        self.intent_data: dict[str, Any] = event.payload.get("data") or {}
        self.currency: str = order["currency"]
        self._channel_settings: dict[str, Any] | None = None
        self._channel_code = ""
        self._channel_kind = ""

    def money(self, minor: int) -> Decimal:
        return from_minor(minor, self.currency)

    async def data(self, intent: str) -> dict[str, Any]:
        lines = await self._lines()
        data = {"order_number": self.order["number"], "currency": self.currency,
                "shop_name": str((await self._channel()).get("shop_name") or ""),
                "customer": await self._customer(), "placed_at": self.order["placed_at"],
                "timezone": await self._timezone(),
                "lines": self._show(lines), "totals": self._totals()}
        if intent == "ready_for_pickup":
            fo = await self._fulfilment_order()
            data["pickup"] = await self._pickup(fo)
            data["lines"], data["totals"] = self._part(lines, fo["lines"])
        elif intent == "order_shipped":
            shipment = await self._shipment()
            data["lines"], data["totals"] = self._part(lines, shipment["lines"])
            partial = data["totals"] is None  # the parcel does not hold every unit charged
            data["shipment"] = {**shipment["shipment"], "partial": partial,
                                "rest_follows": partial and await self._more_to_send(lines)}
        elif intent == "order_cancelled":
            reason = self.intent_data.get("reason") or self.order["cancel_reason"] or DEFAULT_CANCEL_REASON
            reason = str(reason).strip() or DEFAULT_CANCEL_REASON
            data["cancellation"] = {"reason": reason, "code": CANCEL_CODES.get(reason)}
        elif intent == "pickup_expired":
            data["cancellation"] = await self._expiry()
        elif intent == "line_backordered":
            line = self._affected(lines)
            waits = "preordered" if line is not None and line.state == "preordered" else "backordered"
            data["delay"] = {"lines": [self._affected_line(line, waits)], "decline_url": await self._decline_url()}
        elif intent == "line_cancelled":
            line = self._affected(lines)
            data["removal"] = {"lines": [self._affected_line(line, "removed")],
                               "refunded": await self._refunded(line)}
            if data["removal"]["refunded"]:
                data["totals"] = None  # a paid order's totals still count what is being refunded
        elif intent == "line_rerouted":
            data["change"] = await self._change()
            data["lines"] = self._show(lines, {self.intent_data.get("order_line_id"): int(
                self.intent_data.get("quantity") or 0)})
            data["totals"] = None
        elif intent == "refunded":
            await self._channel()  # its kind: who pays a marketplace refund back
            data["refund"] = self._refund(self._channel_kind)
        elif intent in ("return_authorised", "return_received"):
            data["return_request"] = await self._return(lines)
        elif intent == "order_delayed":
            data["delay"] = {"reason": str(self.intent_data.get("reason") or "").strip() or None,
                             "new_estimate": self.intent_data.get("new_estimate")}
        return data

    # --- the order --------------------------------------------------------------------------------

    async def _lines(self) -> list[_Line]:
        """The order's lines with the product title in the order's locale (the catalog title otherwise)."""
        locale = normalise_locale(self.order["locale"])
        local = _translation_t.alias("local")
        rows = (await self.session.execute(
            select(LINES, _product_t.c.title.label("product_title"), local.c.title.label("local_title"))
            .select_from(LINES.join(_variant_t, _variant_t.c.id == LINES.c.variant_id)
                         .join(_product_t, _product_t.c.id == _variant_t.c.product_id)
                         .outerjoin(local, and_(local.c.product_id == _product_t.c.id, local.c.locale == locale)))
            .where(LINES.c.order_id == self.order["id"]).order_by(LINES.c.position))).all()
        cancelled = self.order["state"] == OrderState.CANCELLED
        return [_Line(r.id, r.sku, (r.local_title or "").strip() or r.product_title or r.sku, r.unit_price_minor,
                      _charged_units(r._mapping, gross=self.order["prices_include_tax"], cancelled=cancelled),
                      r.state)
                for r in rows]

    def _show(self, lines: list[_Line], quantities: dict[int, int] | None = None) -> list[dict[str, Any]]:
        out = []
        for line in lines:
            quantity = line.charged if quantities is None else quantities.get(line.id, 0)
            if quantity > 0:
                out.append({"sku": line.sku, "name": line.name, "quantity": quantity,
                            "unit_price": self.money(line.unit_price_minor)})
        return out

    def _part(self, lines: list[_Line], part: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], Any]:
        """The lines of one parcel or pickup; the order's totals only when it holds every unit charged."""
        quantities: dict[int, int] = {}
        for ln in part or []:
            quantities[ln["order_line_id"]] = quantities.get(ln["order_line_id"], 0) + int(ln["quantity"])
        if not quantities:
            return self._show(lines), self._totals()
        whole = all(quantities.get(x.id, 0) == x.charged for x in lines)
        return self._show(lines, quantities), self._totals() if whole else None

    def _totals(self) -> dict[str, Decimal]:
        o = self.order
        return {"subtotal": self.money(o["subtotal_minor"]), "shipping": self.money(o["shipping_minor"]),
                "discount": self.money(o["discount_minor"]), "tax": self.money(o["tax_minor"]),
                "total": self.money(o["total_minor"])}

    async def _customer(self) -> dict[str, Any]:
        """The contact given with the order; what it lacks from the customer's profile."""
        contact = dict(self.order["contact"] or {})
        customer_id = self.order["customer_id"]
        if customer_id is not None and not all(contact.get(k) for k in ("name", "email", "phone")):
            try:
                profile = await customers_service.get_customer(self.session, customer_id)
            except NotFound:
                profile = None
            if profile is not None:
                for key in ("name", "email", "phone"):
                    contact[key] = contact.get(key) or getattr(profile, key) or None
        return {"id": customer_id, "name": contact.get("name") or "", "email": contact.get("email"),
                "phone": contact.get("phone")}

    async def _timezone(self) -> str:
        """The customer's time zone, for the order's own moments (the day it was placed): the store's or pickup
        point's it is collected at, else the one of the country it ships to, else the instance's (the worker's
        ``timezone`` setting)."""
        if self.order["pickup_location_id"] is not None:
            try:
                loc = await locations_service.get_location(self.session, self.order["pickup_location_id"],
                                                           principal=_SYSTEM)
            except NotFound:
                loc = None
            if loc is not None and known_zone(loc.timezone):
                return loc.timezone
        country = str((self.order["shipping_address"] or {}).get("country") or "").upper()
        return country_zone(country) or self.event.context.settings.timezone

    async def _channel(self) -> dict[str, Any]:
        """The order's channel's settings (read once per message)."""
        if self._channel_settings is None:
            row = (await self.session.execute(select(channel_t.c.settings, channel_t.c.code, channel_t.c.kind).where(
                channel_t.c.id == self.order["channel_id"]))).first()
            self._channel_settings = (row.settings if row is not None else None) or {}
            self._channel_code = row.code if row is not None else str(self.order["channel_id"])
            self._channel_kind = row.kind if row is not None else ""
        return self._channel_settings

    async def channel_sends(self, template: str) -> bool:
        """Whether the hub writes this message for the order's channel (``settings.customer_messages``: true or
        absent, all; false, none; or a list of templates). A stored value the settings check refuses stops the
        message with an error naming it, which parks it where operators see it."""
        settings = await self._channel()
        if "customer_messages" not in settings:
            return True
        value = channel_settings.check_stored("customer_messages", settings["customer_messages"],
                                              channel_id=self.order["channel_id"], channel_code=self._channel_code)
        return value is None or value is True or (isinstance(value, list) and template in value)

    # --- pickups -----------------------------------------------------------------------------------

    async def _fulfilment_order(self):
        fo_id = self.event.payload.get("fulfilment_order_id")
        row = None if fo_id is None else (await self.session.execute(select(FULFILMENT).where(
            FULFILMENT.c.id == fo_id, FULFILMENT.c.order_id == self.order["id"]))).first()
        if row is None:
            raise Undeliverable(f"{NOTIFY}: fulfilment order {fo_id} of order {self.order['number']} not found")
        return row._mapping

    async def _store(self, location_id: int) -> dict[str, Any]:
        try:
            loc = await locations_service.get_location(self.session, location_id, principal=_SYSTEM)
        except NotFound as exc:
            raise Undeliverable(f"{NOTIFY}: pickup location {location_id} not found") from exc
        return {"name": loc.name, "street": loc.street or "", "postal_code": loc.postal_code or "",
                "city": loc.city or "", "phone": loc.phone or "", "timezone": loc.timezone or "Europe/Warsaw",
                "opening_hours": loc.opening_hours or {}}

    async def _pickup(self, fo) -> dict[str, Any]:
        code = self.intent_data.get("pickup_code")  # the hub keeps only the code's hash (``pickup_codes``)
        if not code:
            raise Undeliverable(f"{NOTIFY}: fulfilment order {fo['id']} has no pickup code")
        store = await self._store(self.intent_data.get("location_id") or fo["location_id"])
        ready_until = await self._deadline(fo, store) or _moment(self.intent_data.get("collect_by"))
        pickup: dict[str, Any] = {"code": str(code), "ready_until": ready_until, "store": store}
        if (self.intent_data.get("delivery_method") or fo["delivery_method"]) == "curbside":
            token = pickup_codes.check_in_token(fo["id"], secret_key=self._secret(), until=ready_until)
            pickup["method"] = "curbside"
            pickup["check_in_url"] = decline.absolute_url(pickup_codes.check_in_path(fo["id"], token),
                                                          await self._public_base())
        return pickup

    async def _deadline(self, fo, store: dict[str, Any] | None = None) -> datetime | None:
        """When a ready pickup expires: the store's closing time the channel's ``pickup_expiry_days`` after it
        became ready (``pickup_deadline``, as the expiry job)."""
        if fo["ready_at"] is None:
            return None
        if store is None:
            store = await self._store(fo["location_id"])
        return pickup_deadline.collect_by(fo["ready_at"], days=pickup_deadline.expiry_days(await self._channel()),
                                          opening_hours=store["opening_hours"], timezone=store["timezone"])

    async def _expiry(self) -> dict[str, Any]:
        """Why an uncollected pickup was cancelled: its deadline, for the template to word in the customer's
        language (``reason``: the same in English, the store's local time)."""
        fo = await self._fulfilment_order()
        store = await self._store(fo["location_id"])
        deadline = await self._deadline(fo, store)
        if deadline is None:
            return {"reason": str(self.intent_data.get("reason") or "Not collected in time")}
        try:
            local = deadline.astimezone(ZoneInfo(store["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            local = deadline
        return {"reason": f"Not collected by {local:%Y-%m-%d %H:%M}", "not_collected_by": deadline,
                "timezone": store["timezone"]}

    def _secret(self) -> str:
        return self.event.context.settings.resolved_secret_key()

    async def _public_base(self) -> str:
        """The address links are put on: the shop's own (the channel's ``settings.public_url``), else the
        instance's (the ``public_url`` setting)."""
        base = str((await self._channel()).get("public_url") or "").strip()
        if not base.lower().startswith(("https://", "http://")):
            base = self.event.context.settings.public_url  # none, or not an address a link can start with
        return base

    # --- shipments, lines, refunds -----------------------------------------------------------------

    async def _shipment(self) -> dict[str, Any]:
        """The shipment as stored (the intent's copy when it cannot be found)."""
        data = self.intent_data
        row = None
        if data.get("shipment_id") is not None:
            row = (await self.session.execute(select(SHIPMENTS).where(
                SHIPMENTS.c.id == data["shipment_id"], SHIPMENTS.c.order_id == self.order["id"]))).first()
        source = dict(row._mapping) if row is not None else data
        if not source.get("carrier"):
            raise Undeliverable(f"{NOTIFY}: shipment of order {self.order['number']} has no carrier")
        url = source.get("tracking_url") or None
        if url and not str(url).lower().startswith(("https://", "http://")):
            url = None  # not a link a customer can follow; the tracking number still is
        return {"shipment": {"carrier": source["carrier"], "tracking_number": source.get("tracking_number") or "",
                             "tracking_url": url},
                "lines": source.get("lines") or []}

    async def _more_to_send(self, lines: list[_Line]) -> bool:
        """Units of the order not sent or handed over yet: on no fulfilment order (waiting for stock), or on
        one whose lines have not gone (a later parcel)."""
        gone: dict[int, int] = {}
        for state, fo_lines in (await self.session.execute(select(FULFILMENT.c.state, FULFILMENT.c.lines).where(
                FULFILMENT.c.order_id == self.order["id"], FULFILMENT.c.state != FulfilmentState.CANCELLED))).all():
            done = state in _GONE
            for ln in fo_lines or []:
                if done or ln.get("shipped"):
                    gone[ln["order_line_id"]] = gone.get(ln["order_line_id"], 0) + int(ln["quantity"])
        return any(gone.get(x.id, 0) < x.charged for x in lines if x.state != "cancelled")

    def _affected(self, lines: list[_Line]) -> _Line | None:
        """The order line an intent is about: by its id, else by SKU."""
        data = self.intent_data
        return next((x for x in lines if x.id == data.get("order_line_id")), None) or next(
            (x for x in lines if data.get("sku") and x.sku == data.get("sku")), None)

    def _affected_line(self, line: _Line | None, reason: str) -> dict[str, Any]:
        """What the message says of that line — product, SKU, units and a reason code, no sentence: the
        template words it in the message's language."""
        sku = line.sku if line else str(self.intent_data.get("sku") or "")
        if not sku and line is None:
            raise Undeliverable(f"{NOTIFY}: order line {self.intent_data.get('order_line_id')!r} of order "
                                f"{self.order['number']} not found")
        units = int(self.intent_data.get("quantity") or 0)
        return {"sku": sku, "name": line.name if line else sku, "quantity": units if units > 0 else None,
                "reason": reason}

    async def _refunded(self, line: _Line | None) -> bool:
        """Whether the units of a removed line were paid and so refunded (``decline.refund_units`` records the
        refund in the same transaction as the intent); else they are simply not charged."""
        if line is None:
            return False
        units = int(self.intent_data.get("quantity") or 0)
        rows = await self.session.execute(select(EVENTS.c.data).where(EVENTS.c.order_id == self.order["id"],
                                                                      EVENTS.c.kind == "refund.created"))
        return any((d or {}).get("order_line_id") == line.id and (not units or (d or {}).get("quantity") == units)
                   for d in rows.scalars())

    async def _decline_url(self) -> str | None:
        """The signed refund link of a changed line, always absolute: on the shop's own address (the channel's
        ``settings.public_url``), else on the instance's (the ``public_url`` setting)."""
        data = self.intent_data
        base = await self._public_base()
        # the path; an intent written before ``decline_path`` has the link, absolute or a bare path
        link = data.get("decline_path") or data.get("decline_url")
        return decline.absolute_url(str(link), base) if link else None

    async def _change(self) -> dict[str, Any]:
        """A collected line now comes from elsewhere: another store (where) or sent to theirs (later)."""
        moves = self.intent_data.get("to") or []
        elsewhere = [m for m in moves if not m.get("ship_to_store")]
        if elsewhere:
            return {"kind": "another_store", "store": await self._store(elsewhere[0]["location_id"]),
                    "decline_url": await self._decline_url()}
        store = self.order["pickup_location_id"]
        return {"kind": "ship_to_store", "store": await self._store(store) if store else None,
                "decline_url": await self._decline_url()}

    async def _return(self, lines: list[_Line]) -> dict[str, Any]:
        """The return (RMA) as it is now: number, lines with the order's product names, value, the store it
        goes to or came in at (none chosen: any store that takes returns, or the post)."""
        return_id = self.intent_data.get("return_id")
        ret = None if return_id is None else (await self.session.execute(select(_RETURNS).where(
            _RETURNS.c.id == return_id, _RETURNS.c.order_id == self.order["id"]))).first()
        if ret is None:
            raise Undeliverable(f"{NOTIFY}: return {return_id} of order {self.order['number']} not found")
        names = {x.id: x.name for x in lines}
        rows = (await self.session.execute(select(_RETURN_LINES).where(_RETURN_LINES.c.return_id == ret.id)
                                           .order_by(_RETURN_LINES.c.id))).all()
        location_id = self.intent_data.get("location_id") or ret.location_id
        return {"number": ret.number, "amount": self.money(ret.amount_minor),
                "store": None if location_id is None else await self._store(location_id),
                "lines": [{"sku": r.sku, "name": names.get(r.order_line_id) or r.sku, "quantity": r.quantity}
                          for r in rows]}

    def _refund(self, channel_kind: str) -> dict[str, Any]:
        nested = self.intent_data.get("refund")
        data = nested if isinstance(nested, dict) else self.intent_data  # {refund: {amount, …}} or {amount, …}
        amount: Any = data.get("amount")
        if amount is None and data.get("amount_minor") is not None:
            amount = self.money(int(data["amount_minor"]))
        try:
            amount = None if amount is None else Decimal(str(amount))
        except InvalidOperation as exc:
            raise Undeliverable(f"{NOTIFY}: refund amount {amount!r} is not a number") from exc
        if amount is None:
            raise Undeliverable(f"{NOTIFY}: a refunded message needs data.amount")
        refund = {"amount": amount, "method": data.get("method") or None, "reason": data.get("reason") or None}
        if data.get("reference"):  # a voucher's or store credit's code: the customer needs it to spend it
            refund["reference"] = str(data["reference"])
        if refund["method"] == RefundMethod.MARKETPLACE:  # paid back by the marketplace's own payment system
            refund["marketplace"] = MARKETPLACE_NAMES.get(channel_kind, "")
        return refund


def _moment(value: Any) -> datetime | None:
    """An ISO time from an intent (UTC when it names no zone); None when it is missing or not a time."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except (TypeError, ValueError):
            return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _charged_units(line, *, gross: bool, cancelled: bool) -> int:
    """Units the customer pays for. Cancelling the order marks every unit cancelled, so its message shows what
    was charged before: the line's amounts give it back (``totals.line_amounts`` inverted)."""
    if not cancelled:
        return max(0, line["quantity"] - line["quantity_cancelled"])
    subtotal = line["total_minor"] + line["discount_minor"] - (0 if gross else line["tax_minor"])
    if line["unit_price_minor"] > 0 and subtotal % line["unit_price_minor"] == 0:
        return min(line["quantity"], subtotal // line["unit_price_minor"])
    return line["quantity"]
