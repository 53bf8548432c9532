"""The channel settings the product reads, as one typed model: checked when a channel is written, and again
where orders read them (a value stored before this check existed must not break every order).

``settings`` stays a free JSON object: connectors and integrations keep their own keys there, and keys this
model does not know are stored as sent. The known keys (documented in ``docs/channel-settings.md``) must have
the type, range and allowed values below; what is stored is the object as sent (readers read it as before),
never the model's normalised form.

Allowed values come from where they are used: routing strategies from ``routing.solver.STRATEGIES``,
connectors from ``channels.connectors.CONNECTORS``, pickup methods and SLAs from ``channels.feeds.spec``, the
stock-policy keys from ``inventory.availability.StockPolicy``. The ``unfillable`` policies are defined here
(``orders.placement`` uses them from here: this module is below orders).
"""

from __future__ import annotations

import re
import typing
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from omniretail.catalog.rules import check_vat_rate
from omniretail.channels.connectors import CONNECTORS
from omniretail.channels.feeds import spec as feed_spec
from omniretail.channels.feeds.google_local import pickup_sla_text
from omniretail.channels.feeds.values import check_url_template
from omniretail.inventory.availability import InvalidPolicy, StockPolicy
from omniretail.notifications.schemas import TEMPLATES as NOTIFY_TEMPLATES
from omniretail.platform import money
from omniretail.platform.errors import InvalidInput
from omniretail.routing.solver import STRATEGIES

# What placement does with units no location can ship: backorder them, cancel those units, or refuse the order.
UNFILLABLE = ("backorder", "cancel_line", "reject")
ROUTING_STRATEGIES = STRATEGIES
CONNECTOR_NAMES = (*CONNECTORS, "none")
DRIFT_POLICIES = ("correct", "report")
ORDERS_START = ("beginning", "latest")
MONEY_PLACES = 2  # every amount in settings: at most this many decimal places (and the currency's own)
MAX_AMOUNT = Decimal(10) ** 13
_DECIMAL_TEXT = re.compile(r"^[+-]?\d+(\.\d+)?$")


class InvalidChannelSetting(InvalidInput):
    """A channel's stored setting that orders cannot use (stored before settings were checked)."""

    code, title = "channel-setting-invalid", "A channel setting is invalid"


# --- value types -------------------------------------------------------------------------------------------

def _amount(value: Any) -> Any:
    """A non-negative amount with at most two decimal places, as placement reads it (``Decimal(str(value))``):
    a decimal string ("9.99"), an integer, or a JSON number whose shortest form has two places at most."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError('must be a decimal amount such as "9.99"')
    text = str(value).strip()
    if isinstance(value, str) and not _DECIMAL_TEXT.match(text):
        raise ValueError(f'must be a decimal amount such as "9.99", not {value!r}')
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(f'must be a decimal amount such as "9.99", not {value!r}') from None
    if not amount.is_finite():
        raise ValueError(f"must be a finite amount, not {value!r}")
    if amount < 0:
        raise ValueError(f"must not be negative, got {value!r}")
    if amount >= MAX_AMOUNT:
        raise ValueError(f"must be below {MAX_AMOUNT:,}")
    if amount != amount.quantize(Decimal(1).scaleb(-MONEY_PLACES)):
        raise ValueError(f"must have at most {MONEY_PLACES} decimal places, got {value!r}")
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in value):
        raise ValueError(f"must be an http(s) URL, not {value!r}")
    return value


def _pickup_sla(value: str) -> str:
    if pickup_sla_text(value) not in feed_spec.PICKUP_SLAS:
        raise ValueError(f"must be one of {', '.join(feed_spec.PICKUP_SLAS)} "
                         f"(or {', '.join(feed_spec.PICKUP_SLA_ALIASES)}), not {value!r}")
    return value


def _url_template(value: str) -> str:
    check_url_template(value)  # its ValueError says which placeholders it may use
    return value


def _share(value: Any) -> Any:
    """A percentage as StockPolicy reads it (``Fraction(str(value))``)."""
    try:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError
        share = Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"must be a number between 0 and 100, not {value!r}") from None
    if not 0 <= share <= 100:
        raise ValueError(f"must be between 0 and 100, not {value!r}")
    return value


def _vat_rate(value: Any) -> Any:
    """A VAT rate as a decimal string fraction ("0.19" for 19 %), as ``orders.vat`` reads it."""
    if not isinstance(value, str) or not _DECIMAL_TEXT.match(value.strip()):
        raise ValueError(f'must be a rate as a decimal string such as "0.19", not {value!r}')
    check_vat_rate(Decimal(value.strip()))  # as a product's vat_rate
    return value


def _customer_messages(value: Any) -> Any:
    """true, false, or a list of the message kinds (``notifications.schemas.TEMPLATES``) the hub sends."""
    if isinstance(value, bool):
        return value
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValueError(f'must be true, false or a list of message kinds such as ["ready_for_pickup"], not '
                         f'{value!r}')
    unknown = [x for x in value if x not in NOTIFY_TEMPLATES]
    if unknown:
        raise ValueError(f"unknown message kind(s) {', '.join(unknown)}; known: {', '.join(NOTIFY_TEMPLATES)}")
    return value


CustomerMessages = Annotated[Any, AfterValidator(_customer_messages), WithJsonSchema(
    {"anyOf": [{"type": "boolean"}, {"type": "array", "items": {"enum": list(NOTIFY_TEMPLATES)}}]})]

VatRate = Annotated[str, AfterValidator(_vat_rate), WithJsonSchema(
    {"type": "string", "pattern": r"^0(\.\d{1,4})?$", "examples": ["0.19"]})]
CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$")]
ZoneKey = Annotated[str, Field(pattern=r"^([A-Z]{2}|domestic|\*)$")]

Amount = Annotated[Any, AfterValidator(_amount), WithJsonSchema({
    "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d{1,2})?$"}, {"type": "number", "minimum": 0}],
    "examples": ["9.99"]})]
Whole = Annotated[int, Strict(), Field(ge=0)]  # a JSON integer (not true/false, not "3", not 3.0)
Positive = Annotated[int, Strict(), Field(ge=1)]
Flag = Annotated[bool, Strict()]  # true or false: readers take bool(value), and bool("false") is true
Seconds = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]  # a JSON number (an integer will do)
PositiveSeconds = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]
Cost = Annotated[float, Strict(), Field(ge=0, allow_inf_nan=False)]
HttpUrl = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_http_url)]
Text = Annotated[str, Field(min_length=1, max_length=200)]
Names = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=50)]
PickupMethod = Literal[feed_spec.PICKUP_METHODS]
PickupSla = Annotated[str, AfterValidator(_pickup_sla)]
ChannelCode = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]


class ShippingCostModel(BaseModel):
    """The routing's parcel prices (``routing.model.ShippingCostModel``); placement reads these five keys."""

    model_config = ConfigDict(extra="allow")

    parcel_base: Cost = Field(default=12.0, description="Price of a parcel")
    per_km: Cost = Field(default=0.02, description="Price per km from the location to the customer")
    per_unit_km: Cost = Field(default=0.0, description="Price per unit and km")
    split_penalty: Cost = Field(default=5.0, description="Penalty for each parcel beyond the first")
    zone_costs: dict[ZoneKey, Cost] | None = Field(
        default=None, description='A carrier\'s price of a parcel per zone instead of parcel_base and per_km: '
        '"domestic" (the location and the customer in one country), a destination country code ("DE"), and "*" '
        'for any other; a location whose lane has no price is not used for the order (orders.sourcing.parcel_zone)')


class StoreFeedSettings(BaseModel):
    """One store's own values in the local inventory feed (``stores.<location code>``)."""

    model_config = ConfigDict(extra="allow")

    store_code: Text | None = Field(default=None, description="The Business Profile's store code")
    pickup_method: PickupMethod | None = None
    pickup_sla: PickupSla | None = None


class RateLimitSetting(BaseModel):
    model_config = ConfigDict(extra="allow")

    rate: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] = Field(description="Tokens per second")
    burst: Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)] | None = Field(
        default=None, description="Bucket size (default: rate)")


# --- the model ---------------------------------------------------------------------------------------------

class ChannelSettings(BaseModel):
    """The channel settings the product reads. Unknown keys are kept as sent (connectors' own, integrations')."""

    model_config = ConfigDict(extra="allow", title="ChannelSettings")

    # orders: placement, routing, re-routing (``orders.sourcing.ChannelContext.setting``: settings, then
    # stock_policy)
    routing_strategy: Literal[ROUTING_STRATEGIES] = Field(
        default="greedy", description="How orders are routed to locations (routing.solver)")
    unfillable: Literal[UNFILLABLE] | None = Field(
        default=None, description="Units no location can ship: backorder, cancel_line or reject (the order); "
                                  "default backorder for imported orders, else reject")
    shipping_fee: Amount = Field(
        default="0", description="Shipping charged on a shipped order that states none; non-negative, at most "
                                 "2 decimal places (and no more than the channel's currency has)")
    store_protection: Whole | None = Field(
        default=0, description="Units of each variant a store keeps on its shelf for walk-in customers")
    shipping_cost_model: ShippingCostModel | None = Field(
        default=None, description="Parcel prices the routing compares plans by")
    allow_split: Flag = Field(default=True, description="A line may ship from more than one location")
    max_parcels: Whole | None = Field(default=None, description="At most this many locations per order")
    ship_to_store: Flag = Field(
        default=True, description="A pickup store lacking an item has it sent from another location")
    transfer_days: Annotated[int, Strict(), Field(ge=0, le=60)] = Field(
        default=1, description="Transit days of a ship-to-store transfer in the pickup promise")
    pickup_promise_hours: Annotated[float, Strict(), Field(ge=0, le=720, allow_inf_nan=False)] = Field(
        default=2.0, description="Open hours until a pickup order is promised ready")
    pickup_expiry_days: Annotated[int, Strict(), Field(ge=1, le=365)] = Field(
        default=5, description="Days a ready pickup order waits for its customer")
    vat_by_country: dict[CountryCode, dict[VatRate, VatRate]] | None = Field(
        default=None, description='VAT of sales shipped abroad (EU one-stop shop): per destination country, the '
        'product\'s own rate → the rate charged there, e.g. {"DE": {"0.23": "0.19", "0.08": "0.07"}}; a rate '
        'not listed, and every other country, keeps the product\'s rate (orders.vat)')
    # stock policy keys placement reads from settings over ``stock_policy`` (orders.holds; StockPolicy's rules)
    buffer: Whole = Field(default=0, description="Stock policy: units held back from the channel")
    share_percent: Annotated[Any, AfterValidator(_share), WithJsonSchema(
        {"type": "number", "minimum": 0, "maximum": 100})] | None = Field(
        default=None, description="Stock policy: share of the stock offered, 0-100")
    keep_last: Whole = Field(default=0, description="Stock policy: the last units kept back")
    cap: Whole | None = Field(default=None, description="Stock policy: at most this many offered")
    round_down_to: Positive = Field(default=1, description="Stock policy: offered quantity rounded down to")
    show_zero_below: Whole = Field(default=0, description="Stock policy: below this, offer none")
    promise_incoming: Flag = Field(default=False, description="Stock policy: sell goods on order (pre-orders)")
    incoming_max_days: Whole | None = Field(default=None, description="Stock policy: goods due within days")
    hold_unpaid: Flag = Field(default=True, description="Stock policy: unpaid orders hold stock")
    unpaid_hold_minutes: Whole | None = Field(default=None, description="Stock policy: how long they hold it")
    # customer messages (orders.messages, orders.decline_offer)
    customer_messages: CustomerMessages | None = Field(
        default=None, description="The customer messages the hub sends for this channel's orders: true (all, the "
        "default), false (none: a marketplace that tells its buyers itself, or forbids writing to them), or a "
        'list of message kinds, e.g. ["ready_for_pickup"]')
    shop_name: Text | None = Field(default=None, description="Signature of customer messages")
    public_url: HttpUrl | None = Field(default=None, description="The shop's address, for links in messages")
    # point of sale (pos.sales)
    endless_aisle_channel: ChannelCode | None = Field(
        default=None, description="Code of the channel a till's endless-aisle orders go to")
    # Google Merchant feeds (channels.feeds)
    product_url_template: Annotated[str, Field(max_length=2000), AfterValidator(_url_template)] | None = Field(
        default=None, description="Product page URL, e.g. https://shop.example/p/{product_code}?variant={sku}")
    shop_url: HttpUrl | None = Field(default=None, description="The shop's home page (feeds; Shopify: the shop)")
    color_options: Names | None = Field(default=None, description='Option names of colour, default ["color", '
                                                                   '"colour"]')
    size_options: Names | None = Field(default=None, description='Option names of size, default ["size"]')
    pickup_method: PickupMethod | None = Field(default=None, description="Local feed: how stores offer pickup")
    pickup_sla: PickupSla | None = Field(default=None, description="Local feed: when a pickup is ready")
    limited_availability_max: Whole = Field(
        default=2, description="Local feed: at or below this quantity, limited_availability")
    stores: dict[str, StoreFeedSettings] | None = Field(
        default=None, description="Local feed: per location code, its store_code, pickup_method, pickup_sla")
    feed_url_version: Positive = Field(default=1, description="Bump it to change the feed URLs' token")
    # channel sync and connectors (channels.sync, channels.connectors)
    connector: Literal[CONNECTOR_NAMES] | None = Field(
        default=None, description="The connector; default by kind (marketplace_allegro: allegro, custom: "
                                  "webhook); none switches it off")
    rate_limits: dict[str, RateLimitSetting] | None = Field(
        default=None, description="Per bucket: {rate, burst}, overriding the connector's defaults")
    sync_listings: Flag = Field(default=None, description="Push publication and content too (default: the "
                                                          "connector's)")
    drift_policy: Literal[DRIFT_POLICIES] = Field(
        default="correct", description="Reconciliation: correct the drift, or only report it")
    reconcile_every_s: PositiveSeconds = Field(default=3600, description="Seconds between reconciliations")
    url: HttpUrl | None = Field(default=None, description="Webhook: the receiver")
    topics: Names | None = Field(default=None, description="Webhook: hub topics relayed to it")
    base_url: HttpUrl | None = Field(default=None, description="Allegro: API address")
    auth_url: HttpUrl | None = Field(default=None, description="Allegro: OAuth address")
    redirect_uri: HttpUrl | None = Field(default=None, description="Allegro: OAuth redirect URI")
    orders_start: Literal[ORDERS_START] = Field(
        default="beginning", description="Allegro: read the order backlog from the beginning, or skip it")
    orders_page: Annotated[int, Strict(), Field(ge=1, le=1000)] | None = Field(
        default=None, description="Orders read per page (Allegro 100, Shopify 50)")
    command_check_s: Seconds = Field(default=1.0, description="Allegro: seconds before a command is checked")
    command_poll_s: PositiveSeconds = Field(default=0.5, description="Allegro: seconds between checks")
    command_timeout_s: PositiveSeconds = Field(default=20.0, description="Allegro: seconds a command may take")
    commands_in_flight: Positive = Field(default=64, description="Allegro: commands sent at once")
    budget_wait_s: Seconds = Field(default=15.0, description="Allegro: seconds to wait for rate budget")
    api_version: Annotated[str, Field(pattern=r"^(\d{4}-\d{2}|unstable)$")] = Field(
        default="2026-04", description="Shopify: Admin API version")
    location_id: Text | None = Field(default=None, description="Shopify: the default gid://shopify/Location/…")
    price_push_s: Seconds = Field(default=10.0, description="Shopify: seconds a price batch may take")

    @model_validator(mode="after")
    def _stock_policy(self) -> ChannelSettings:
        """The stock-policy keys as orders.holds reads them: StockPolicy's own rules, whatever they become."""
        given = {k: getattr(self, k) for k in StockPolicy.KEYS if k in self.model_fields_set}
        if given:
            try:
                StockPolicy.from_json(given)
            except InvalidPolicy as exc:
                raise ValueError(str(exc)) from None
        return self


KNOWN = frozenset(ChannelSettings.model_fields)


def keep_as_sent(value: Any, handler) -> dict[str, Any]:
    """A pydantic wrap validator: check ``value`` as :class:`ChannelSettings` (errors located at each key) and
    keep the object as sent, so readers find what they always found."""
    handler(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    return dict(value)


# --- checks the service and readers make ---------------------------------------------------------------------

def check_amounts(settings: dict[str, Any] | None, currency: str) -> None:
    """The amounts against the channel's currency (its decimal places), as placement parses them."""
    value = (settings or {}).get("shipping_fee")
    if value is None:
        return
    try:
        money.parse_amount(Decimal(str(value)), currency)
    except (money.MoneyError, InvalidOperation) as exc:
        raise InvalidInput(f"settings.shipping_fee: {exc}", field="settings.shipping_fee") from None


def allowed_values(name: str) -> list[Any] | None:
    """The allowed values of a known setting that has a fixed set of them."""
    field = ChannelSettings.model_fields.get(name)
    if field is None:
        return None
    for arg in (field.annotation, *typing.get_args(field.annotation)):
        if typing.get_origin(arg) is Literal:
            return list(typing.get_args(arg))
    return None


def problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be setting ``name`` (None: it can, or the key is not one the product reads)."""
    if name not in KNOWN:
        return None
    try:
        ChannelSettings.model_validate({name: value})
    except ValidationError as exc:
        return "; ".join(".".join(map(str, e["loc"][1:])) + ": " + e["msg"] if len(e["loc"]) > 1 else e["msg"]
                         for e in exc.errors())
    return None


def check_stored(name: str, value: Any, *, channel_id: int, channel_code: str, where: str = "settings") -> Any:
    """``value`` of a stored setting, or a 422 naming it (``settings.<name>``) when it is not one the product
    can use — a value written before settings were checked, or straight into the database."""
    why = problem(name, value)
    if why is None:
        return value
    extra = {"allowed": allowed} if (allowed := allowed_values(name)) is not None else {}
    raise InvalidChannelSetting(
        f"channel {channel_code} has an invalid {where}.{name} ({value!r}): {why}; correct it with "
        f"PATCH /api/v1/channels/{channel_id}", field=f"{where}.{name}", channel_id=channel_id, **extra)
