"""The store app's till (``/store/pos``): scan or search products into a cart, see the stock here and in the
nearest stores, take cash or card and print the receipt (``/store/pos/receipts/{order_id}``); sell for home
delivery from another location (endless aisle); open and close the register shift with a cash count
(``/store/pos/shift``).

The cart lives in the page's one form (``sku``/``qty`` pairs), so a keyboard-wedge scanner — it types the code
and Enter — adds a line with one round trip and nothing is kept on the server until the sale. The form's
``sale_id`` is the till's id for the sale: pressing "Pay" twice rings it up once. Every rule (prices, stock,
shift, cash) is the pos and orders services'; this module reads forms and puts errors next to their fields.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.customers.schemas import CustomerDetails
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import LocationKind
from omniretail.orders import service as orders_service
from omniretail.orders.placement import OrderUnfillable
from omniretail.orders.schemas import Address
from omniretail.platform.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from omniretail.pos import lookup, sales, shifts
from omniretail.pos.schemas import (
    CounterSaleCreate,
    HomeDeliveryCreate,
)
from omniretail.pricing.schemas import decimal_input

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .error_text import describe
from .i18n import N_, location_zone, request_locale, use_zone
from .stock_forms import digits, t

router = APIRouter(route_class=PageRoute, include_in_schema=False)

MAX_QUANTITY = 999
MAX_CART_LINES = 100
CUSTOMER_FIELDS = ("name", "email", "phone", "street", "postal_code", "city", "country")
PAYMENT_LABELS = {"cash": N_("Cash"), "card": N_("Card")}
KIND_LABELS = {"counter": N_("Counter sale"), "endless_aisle": N_("Home delivery")}


# --- which store ---------------------------------------------------------------------------------------------

async def _stores(session, principal: Principal) -> list:
    rows, _ = await locations_service.list_locations(session, principal=principal, kind=LocationKind.STORE,
                                                     limit=200, sort="name")
    return [r for r in rows if r.sells_pos]


async def _store(session, principal: Principal, location_id: str | int | None):
    """The store asked for (one the principal may see), the associate's only till store, or None."""
    if location_id not in (None, ""):
        if not digits(str(location_id)):
            raise NotFound("there is no such store")
        return await locations_service.get_location(session, int(location_id), principal=principal)
    stores = await _stores(session, principal)
    return stores[0] if len(stores) == 1 and principal.location_ids is not None else None


async def _choose(request: Request, session, principal: Principal, target: str, heading: str) -> Response:
    return render(request, "store/choose_store.html", {
        "stores": await _stores(session, principal), "target": target, "heading": heading})


def _error_text(request: Request, exc: DomainError) -> str:
    """A refusal as a sentence in the reader's language where the case is known."""
    if isinstance(exc, shifts.ShiftNotOpen):
        return t(request, N_("No shift is open on this till: open one first."))
    if isinstance(exc, shifts.ShiftAlreadyOpen):
        return t(request, N_("A shift is already open on this till."))
    if isinstance(exc, OrderUnfillable):
        short = ", ".join(f"{x['sku']} ({x['available']}/{x['requested']})" for x in exc.extensions.get("lines", []))
        return t(request, N_("Not enough stock for: %(lines)s. Change the quantity, or sell it for home "
                             "delivery."), lines=short)
    if isinstance(exc, InvalidInput) and exc.extensions.get("inactive_skus"):
        return t(request, N_("Not for sale: %(skus)s"), skus=", ".join(exc.extensions["inactive_skus"][:10]))
    if isinstance(exc, InvalidInput) and exc.extensions.get("unknown_skus"):
        return t(request, N_("Unknown SKU: %(skus)s"), skus=", ".join(exc.extensions["unknown_skus"][:10]))
    if isinstance(exc, sales.SaleIdReused):
        return t(request, N_("This sale was already paid with other items or payment. Pay again to ring up "
                             "this cart as a new sale."))
    if isinstance(exc, InvalidInput) and "decimal_places" in exc.extensions:
        return t(request, N_("Too many decimal places: amounts have at most %(places)s here."),
                 places=exc.extensions["decimal_places"])
    if isinstance(exc, InvalidInput) and exc.extensions.get("field") == "tendered" and "total" in exc.extensions:
        return t(request, N_("The cash handed over is less than the total."))
    return describe(request, exc)


def form_amount(raw: str) -> Decimal | None:
    """An amount typed into a till's form (a decimal comma and spaces allowed), or None when it is not one:
    read as amounts are everywhere (``pricing.schemas.decimal_input``: no exponent such as 1e4), not negative."""
    raw = raw.replace(",", ".").replace(" ", "").replace("\xa0", "")
    try:
        amount = decimal_input(raw)
    except ValueError:
        return None
    return amount if amount >= 0 else None


# --- the cart ------------------------------------------------------------------------------------------------

@dataclass
class CartLine:
    sku: str
    quantity: int
    item: lookup.Item | None = None
    unit_price: Decimal | None = None
    total: Decimal | None = None
    here: lookup.StoreStock | None = None
    nearby: list[lookup.StoreStock] = field(default_factory=list)


@dataclass
class Cart:
    lines: list[CartLine]
    errors: dict[str, str]
    values: dict[str, str]
    results: list[lookup.Item] = field(default_factory=list)
    added: str | None = None

    @property
    def total(self) -> Decimal | None:
        totals = [x.total for x in self.lines]
        return None if not totals or None in totals else sum(totals, Decimal(0))


def _read_cart(request: Request, form) -> Cart:
    """The cart's lines as the form sent them; a quantity that is not a whole number gets an error."""
    errors: dict[str, str] = {}
    values = {k: str(form.get(k, "")).strip() for k in ("tendered", "payment_method", "code", "q", *CUSTOMER_FIELDS)}
    values["sale_id"] = str(form.get("sale_id", "")).strip() or uuid.uuid4().hex
    lines: list[CartLine] = []
    remove = str(form.get("remove", ""))
    for i, (sku, raw) in enumerate(zip(form.getlist("sku"), form.getlist("qty"), strict=False)):
        if str(i) == remove:
            continue
        raw = str(raw).strip()
        if not digits(raw) or not 0 <= int(raw) <= MAX_QUANTITY:
            errors[f"qty-{len(lines)}"] = t(request, N_("Enter a whole number from 1 to %(max)s."), max=MAX_QUANTITY)
            lines.append(CartLine(str(sku), 1))
            values[f"qty-{len(lines) - 1}"] = raw
        elif int(raw) > 0:
            lines.append(CartLine(str(sku), int(raw)))
    return Cart(lines[:MAX_CART_LINES], errors, values)


def _add(cart: Cart, item: lookup.Item) -> None:
    for line in cart.lines:
        if line.sku == item.sku:
            line.quantity = min(MAX_QUANTITY, line.quantity + 1)
            break
    else:
        cart.lines.append(CartLine(item.sku, 1))
    cart.added = item.label


async def _fill(session, request: Request, cart: Cart, where: shifts.Till, principal: Principal) -> None:
    """Each line's product, price on the POS channel and stock here and nearby."""
    locale = request_locale(request)
    for line in cart.lines:
        try:
            line.item = await lookup.find_by_code(session, line.sku, locale=locale)
        except NotFound:
            continue
        line.unit_price = await lookup.unit_price(session, channel_id=where.channel_id, sku=line.sku,
                                                  principal=principal)
        line.total = lookup.line_total(line.unit_price, line.quantity, where.currency)
        line.here, line.nearby = await lookup.stock_nearby(session, sku=line.sku, location_id=where.location_id)


async def _till_page(request: Request, session, principal: Principal, where: shifts.Till, cart: Cart, *,
                     status_code: int = 200) -> Response:
    await _fill(session, request, cart, where, principal)
    shift = await shifts.current_shift(session, location_id=where.location_id, principal=principal)
    use_zone(request, await location_zone(session, where.location_id))  # the store's local time
    return render(request, "pos/till.html", {
        "where": where, "shift": shift, "cart": cart, "errors": cart.errors, "values": cart.values,
        "payment_labels": PAYMENT_LABELS,
    }, status_code=status_code)


@router.get("/store/pos")
async def till(request: Request, session: SessionDep, principal: StoreWorker, location_id: str = "") -> Response:
    store = await _store(session, principal, location_id)
    if store is None:
        return await _choose(request, session, principal, "/store/pos", N_("Till"))
    where = await shifts.till(session, store.id, principal=principal)
    cart = Cart([], {}, {"sale_id": uuid.uuid4().hex, "payment_method": "cash"})
    return await _till_page(request, session, principal, where, cart)


@router.post("/store/pos", dependencies=[CsrfChecked])
async def update_cart(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    """Scan, search, add a search result, change quantities or remove a line: the page again with the cart."""
    form = await request.form()
    where = await shifts.till(session, await _location_id(session, principal, form), principal=principal)
    cart = _read_cart(request, form)
    locale = request_locale(request)
    code, query, add = cart.values["code"], cart.values["q"], str(form.get("add", "")).strip()
    for wanted in (code, add):
        if not wanted:
            continue
        try:
            item = await lookup.find_by_code(session, wanted, locale=locale)
        except NotFound:
            cart.errors["code"] = t(request, N_("No product has the code %(code)s."), code=wanted)
            continue
        if not item.is_active:
            cart.errors["code"] = t(request, N_("%(product)s is not for sale."), product=item.label)
            continue
        _add(cart, item)
    if code and "code" not in cart.errors:
        cart.values["code"] = ""
    if query and not add:
        cart.results = await lookup.search(session, query, locale=locale)
        if not cart.results:
            cart.errors["q"] = t(request, N_("Nothing matches %(query)s."), query=query)
    return await _till_page(request, session, principal, where, cart,
                            status_code=400 if cart.errors else 200)


async def _location_id(session, principal: Principal, form) -> int:
    store = await _store(session, principal, str(form.get("location_id", "")))
    if store is None:
        raise NotFound("choose a store")
    return store.id


def _tendered(request: Request, cart: Cart) -> Decimal | None:
    raw = cart.values["tendered"]
    if not raw or cart.values["payment_method"] != "cash":
        return None
    amount = form_amount(raw)
    if amount is None:
        cart.errors["tendered"] = t(request, N_("Enter an amount such as 50 or 50.00."))
    return amount


def _sale_lines(request: Request, cart: Cart) -> list[dict]:
    if not cart.lines:
        cart.errors["code"] = t(request, N_("Scan or search a product first."))
    if cart.values["payment_method"] not in PAYMENT_LABELS:
        cart.errors["payment_method"] = t(request, N_("Choose cash or card."))
    return [{"sku": x.sku, "quantity": x.quantity} for x in cart.lines]


@router.post("/store/pos/sale", dependencies=[CsrfChecked])
async def ring_up(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    """Pay for the cart at the counter: cash (with what was handed over) or card; then the receipt."""
    form = await request.form()
    where = await shifts.till(session, await _location_id(session, principal, form), principal=principal)
    cart = _read_cart(request, form)
    lines, tendered = _sale_lines(request, cart), _tendered(request, cart)
    if not cart.errors:
        try:
            async with session.begin_nested():
                sale = await sales.ring_up(session, data=CounterSaleCreate(
                    location_id=where.location_id, sale_id=cart.values["sale_id"], lines=lines,
                    payment_method=cart.values["payment_method"], tendered=tendered), principal=principal,
                    actor=principal.label)
        except PermissionDenied:
            raise
        except DomainError as exc:
            _refused(request, cart, exc)
        except ValidationError:
            cart.errors["form"] = t(request, N_("The sale could not be read; reload the page."))
        else:
            return RedirectResponse(f"/store/pos/receipts/{sale.order_id}", status_code=303)
    return await _till_page(request, session, principal, where, cart, status_code=_status(cart))


def _refused(request: Request, cart: Cart, exc: DomainError) -> None:
    """A sale the services refused: the reason by its field; a sale id used before gets a new one, so paying
    again rings this cart up as another sale."""
    cart.errors["tendered" if exc.extensions.get("field") == "tendered" else "form"] = _error_text(request, exc)
    if isinstance(exc, sales.SaleIdReused):
        cart.values["sale_id"] = uuid.uuid4().hex


def _status(cart: Cart) -> int:
    return 409 if "form" in cart.errors else 400


def _customer(request: Request, cart: Cart) -> tuple[CustomerDetails | None, Address | None]:
    v, errors = cart.values, cart.errors
    required = {"name": N_("Enter the customer's name."), "street": N_("Enter the street and number."),
                "postal_code": N_("Enter the postal code."), "city": N_("Enter the city.")}
    for key, message in required.items():
        if not v[key]:
            errors[key] = t(request, message)
    if not v["email"] and not v["phone"]:
        errors["email"] = t(request, N_("Enter an e-mail address or a phone number for the delivery."))
    elif v["email"] and ("@" not in v["email"] or "." not in v["email"].rsplit("@", 1)[-1]):
        errors["email"] = t(request, N_("Enter an e-mail address such as name@example.com."))
    country = (v["country"] or "PL").upper()
    if len(country) != 2 or not country.isalpha():
        errors["country"] = t(request, N_("Enter a two-letter country code such as PL."))
    if errors:
        return None, None
    try:
        customer = CustomerDetails(name=v["name"], email=v["email"] or None, phone=v["phone"] or None)
        address = Address(name=v["name"], street=v["street"], postal_code=v["postal_code"], city=v["city"],
                          country=country, phone=v["phone"] or None)
    except ValidationError as exc:
        for error in exc.errors():
            key = str(error["loc"][0]) if error["loc"] else "name"
            errors[key if key in CUSTOMER_FIELDS else "name"] = t(request, N_("This is too long."))
        return None, None
    return customer, address


@router.post("/store/pos/home-delivery", dependencies=[CsrfChecked])
async def home_delivery(request: Request, session: SessionDep, principal: StoreWorker) -> Response:
    """Endless aisle: the cart paid here, shipped to the customer from wherever the routing engine picks."""
    form = await request.form()
    where = await shifts.till(session, await _location_id(session, principal, form), principal=principal)
    cart = _read_cart(request, form)
    cart.values["delivery"] = "1"
    lines, tendered = _sale_lines(request, cart), _tendered(request, cart)
    customer, address = _customer(request, cart)
    if not cart.errors:
        try:
            async with session.begin_nested():
                sale = await sales.take_home_delivery(session, data=HomeDeliveryCreate(
                    location_id=where.location_id, sale_id=cart.values["sale_id"], lines=lines,
                    payment_method=cart.values["payment_method"], tendered=tendered, customer=customer,
                    address=address), principal=principal, actor=principal.label)
        except PermissionDenied:
            raise
        except DomainError as exc:
            _refused(request, cart, exc)
        except ValidationError:
            cart.errors["form"] = t(request, N_("The sale could not be read; reload the page."))
        else:
            return RedirectResponse(f"/store/pos/receipts/{sale.order_id}", status_code=303)
    return await _till_page(request, session, principal, where, cart, status_code=_status(cart))


# --- the receipt ---------------------------------------------------------------------------------------------

@router.get("/store/pos/receipts/{order_id}")
async def receipt(request: Request, session: SessionDep, principal: StoreWorker, order_id: int) -> Response:
    sale = await sales.get_sale(session, order_id, principal=principal)
    order = await orders_service.get_order(session, order_id, principal=principal, timeline=False)
    store = await locations_service.get_location(session, sale.location_id, principal=principal)
    locale = request_locale(request)
    titles: dict[str, str] = {}
    for line in order.lines:
        try:
            titles[line.sku] = (await lookup.find_by_code(session, line.sku, locale=locale)).label
        except NotFound:
            titles[line.sku] = line.sku
    taxes: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for line in order.lines:
        taxes[line.tax_rate][0] += line.tax
        taxes[line.tax_rate][1] += line.total
    return render(request, "pos/receipt.html", {
        "sale": sale, "order": order, "store": store, "titles": titles,
        "taxes": sorted(taxes.items()), "payment_labels": PAYMENT_LABELS, "kind_labels": KIND_LABELS,
    })
