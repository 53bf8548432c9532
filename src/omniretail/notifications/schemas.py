"""The ``orders.notify`` payload contract, and the notifications API's models.

Contract for producers (the orders package, or anything else that owes a customer a message)
---------------------------------------------------------------------------------------------
Append one outbox event in the transaction that changed the order::

    await outbox.append_event(session, "orders.notify", {
        "template": "ready_for_pickup",          # one of TEMPLATES below
        "order_id": 123,                          # the hub's order id (int or str); shown in the delivery log
        "locale": "pl",                           # optional: the customer's own choice (preferences) wins
        "data": {                                 # everything the message shows; no table is read back
            "order_number": "WEB-10023",
            "currency": "PLN",                    # ISO 4217; every amount below is in it
            "shop_name": "Northwind",             # optional: signs the message
            "customer": {"id": 42, "name": "Anna Nowak", "email": "anna@example.com", "phone": "+48600100200"},
            "placed_at": "2026-11-30T10:15:00Z",
            "lines": [{"sku": "RUN-42", "name": "Runner 42", "quantity": 2, "unit_price": "199.00",
                       "total": "398.00"}],       # total optional: unit_price × quantity
            "totals": {"subtotal": "398.00", "shipping": "0.00", "discount": "0.00", "tax": "74.42",
                       "total": "398.00"},
            "pickup": {"code": "4F7K2Q", "ready_until": "2026-12-07T20:00:00Z", "store": {
                "name": "Northwind Mokotów", "street": "Puławska 12", "postal_code": "02-512",
                "city": "Warszawa",
                "phone": "+48221234567", "timezone": "Europe/Warsaw",
                "opening_hours": {"mon": [["09:00", "21:00"]], "sun": []}},   # the location's own format
                "method": "curbside",             # optional: pickup (in the store, default) | curbside
                "check_in_url": "https://…"},     # curbside: the signed link to the "I'm here" page
            "shipment": {"carrier": "InPost", "tracking_number": "6800…", "tracking_url": "https://…",
                         "estimated_delivery": "2026-12-03"},
            "delay": {"reason": "…", "new_estimate": "2026-12-10",           # delayed: a reason in words, or
                      "lines": [{"sku": "RUN-42", "name": "Runner 42", "quantity": 2,  # the lines that wait
                                 "reason": "backordered"}],  # backordered | preordered
                      "decline_url": "https://…"},  # optional: the signed link to refund them instead
            "removal": {"lines": [{"sku": "RUN-42", "name": "Runner 42", "quantity": 2, "reason": "removed"}],
                        "refunded": True},        # items_removed: lines taken off the order (paid: refunded)
            "change": {"kind": "another_store", "store": {…}, "decline_url": "https://…"},  # fulfilment_changed
            "cancellation": {"reason": "The item is no longer available.",
                             "not_collected_by": "2026-12-07T20:00:00Z",  # optional: an uncollected pickup
                             "timezone": "Europe/Warsaw"},                 # (the deadline; the store's zone)
            "refund": {"amount": "199.00", "method": "card", "reason": "…"},
            "return_request": {"number": "R-WEB-10023-1", "amount": "199.00", "store": {…},  # return_*
                               "lines": [{"sku": "RUN-42", "name": "Runner 42", "quantity": 1}]}
        }})

Build it with ``NotifyPayload(...)`` and ``notify_event(payload)`` to validate when you emit. Amounts are
decimal strings in the order's currency (never floats); times without a zone are taken as UTC. Which sections
are required depends on the template: ``ready_for_pickup`` needs ``pickup``, ``shipped`` needs ``shipment``,
``cancelled`` needs ``cancellation.reason`` (a customer is always told why), ``refunded`` needs ``refund``,
``fulfilment_changed`` needs ``change``. A pickup's ``ready_until`` is the collect-by deadline (the store's
closing time; templates show it in the store's time zone); a ``curbside`` pickup tells the customer to come to
the store's curbside bays and to say "I'm here" on ``check_in_url``. ``delayed`` may carry ``delay``: free ``reason`` text, or the ``lines``
that wait, each with a reason code (``backordered``, ``preordered``) that the template words in the message's
language. ``items_removed`` needs ``removal``: the lines taken off the order (reason ``removed``), never told as
a delay. ``return_authorised`` and ``return_received`` need ``return_request`` (its ``store``: where to bring
the goods, or where they came in; none: any store that takes returns, or the post). Links a customer follows
(``decline_url``) are absolute. The event is consumed at least once; the notification is sent once per (event,
recipient, template).
A payload that does not validate is parked at once with the validation error in ``outbox.last_error``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from omniretail.platform.i18n import SUPPORTED_LOCALES
from omniretail.platform.money import MoneyError, validate_currency

TOPIC = "orders.notify"
TEMPLATES = ("order_confirmed", "ready_for_pickup", "shipped", "delayed", "items_removed", "cancelled",
             "refunded", "fulfilment_changed", "return_authorised", "return_received")
TemplateName = Literal["order_confirmed", "ready_for_pickup", "shipped", "delayed", "items_removed", "cancelled",
                       "refunded", "fulfilment_changed", "return_authorised", "return_received"]
Channel = Literal["email", "sms"]
# A customer cannot opt out of hearing that their order, or part of it, was cancelled.
MANDATORY_TEMPLATES = frozenset({"cancelled", "items_removed"})

Amount = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]


def _utc_if_naive(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


Moment = Annotated[datetime, AfterValidator(_utc_if_naive)]  # a time without a zone is taken as UTC


def _absolute_link(value: str | None) -> str | None:
    """A link a customer can follow from an e-mail: absolute, http(s)."""
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an absolute http(s) link")
    return value or None


WebLink = Annotated[str | None, AfterValidator(_absolute_link)]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CustomerContact(_Part):
    id: int | None = Field(default=None, description="The customers package's id (for preferences)")
    name: str = ""
    email: str | None = None
    phone: str | None = None


class OrderLine(_Part):
    sku: str = ""
    name: str
    quantity: int = Field(ge=0)
    unit_price: Amount
    total: Amount | None = None

    @property
    def line_total(self) -> Decimal:
        return self.total if self.total is not None else self.unit_price * self.quantity


class Totals(_Part):
    subtotal: Amount | None = None
    shipping: Amount | None = None
    discount: Amount | None = None
    tax: Amount | None = None
    total: Amount


class Store(_Part):
    name: str
    street: str = ""
    postal_code: str = ""
    city: str = ""
    phone: str = ""
    timezone: str = "Europe/Warsaw"
    opening_hours: dict[str, list[list[str]]] = Field(default_factory=dict)


class Pickup(_Part):
    code: str = Field(min_length=1)
    store: Store
    ready_until: Moment | None = None
    method: Literal["pickup", "curbside"] = Field(default="pickup", description="In the store, or brought out "
                                                                              "to the customer's car")
    check_in_url: WebLink = Field(default=None, description="Curbside: the signed link to say \"I'm here\"")


class Shipment(_Part):
    carrier: str
    tracking_number: str = ""
    tracking_url: str | None = None
    estimated_delivery: date | None = None
    partial: bool = Field(default=False, description="The parcel holds part of the order (its lines are listed)")
    rest_follows: bool = Field(default=False, description="Units of the order are still to be sent")

    @field_validator("tracking_url")
    @classmethod
    def _web_link(cls, value: str | None) -> str | None:
        if value and not value.lower().startswith(("https://", "http://")):
            raise ValueError("tracking_url must be an http(s) link")
        return value or None


# Why a line of an order is mentioned: it waits for stock (``backordered``) or for an expected delivery
# (``preordered``), or it was taken off the order (``removed``). Templates word each in their language.
LineReason = Literal["backordered", "preordered", "removed"]
WAITING = ("backordered", "preordered")


class AffectedLine(_Part):
    """A line a message is about, and why: the template writes the sentence in the message's language."""

    sku: str = ""
    name: str = Field(min_length=1)
    quantity: int | None = Field(default=None, ge=1, description="Units concerned; none: the line")
    reason: LineReason


class Delay(_Part):
    reason: str | None = Field(default=None, description="Free text, shown as it is (not translated)")
    new_estimate: date | None = None
    lines: list[AffectedLine] = Field(default_factory=list, description="Lines that wait (backordered, "
                                                                        "preordered)")
    decline_url: WebLink = Field(default=None, description="Signed link to refund the waiting lines instead")

    @field_validator("lines")
    @classmethod
    def _waiting(cls, lines: list[AffectedLine]) -> list[AffectedLine]:
        if any(line.reason not in WAITING for line in lines):
            raise ValueError("a delay's lines wait (backordered, preordered); removed lines are told with "
                             "items_removed")
        return lines


class Removal(_Part):
    """Lines taken off the order (not available): not charged, or refunded when they were paid for."""

    lines: list[AffectedLine] = Field(min_length=1)
    refunded: bool = Field(default=False, description="They were paid for and are refunded (a refunded message "
                                                      "gives the amount); else they are not charged")

    @field_validator("lines")
    @classmethod
    def _removed(cls, lines: list[AffectedLine]) -> list[AffectedLine]:
        if any(line.reason != "removed" for line in lines):
            raise ValueError("the lines of a removal have reason 'removed'")
        return lines


class Change(_Part):
    """A line of a collected order will not come as promised (a pick exception moved it): picked up at
    another store (``store``: where), or sent to the customer's store first (``store``: theirs; later)."""

    kind: Literal["another_store", "ship_to_store"]
    store: Store | None = None
    new_estimate: date | None = None
    decline_url: WebLink = None


# Why the hub itself cancelled an order, as a code the template words in the message's language (``reason``,
# the hub's English wording, stays for anything that shows the reason alone).
CancelCode = Literal["buyer_cancelled", "declined", "unspecified"]


class Cancellation(_Part):
    reason: str = Field(min_length=1)
    code: CancelCode | None = Field(default=None, description="A reason the hub gave (the buyer cancelled on the "
                                    "channel, declined a change, none given): templates word "
                                    "it; None: ``reason`` is shown as written")
    not_collected_by: Moment | None = Field(default=None, description="An uncollected pickup: the deadline that "
                                                                      "passed (templates word it, not reason)")
    timezone: str | None = Field(default=None, description="The store's, for not_collected_by")


class Refund(_Part):
    amount: Amount
    method: str | None = None
    reason: str | None = None
    reference: str | None = None  # a voucher's or store credit's code, which the customer needs to use it
    marketplace: str | None = None  # method "marketplace": the marketplace that pays it back ("Allegro")


class ReturnLine(_Part):
    sku: str = ""
    name: str
    quantity: int = Field(ge=1)


class ReturnRequest(_Part):
    """A return (RMA): its number, what comes back, the store it goes to or came in at (None: any store that
    takes returns, or by post) and the value expected to be refunded."""

    number: str = Field(min_length=1)
    lines: list[ReturnLine] = Field(default_factory=list)
    store: Store | None = None
    amount: Amount | None = None


class NotificationData(_Part):
    order_number: str = Field(min_length=1)
    currency: str
    shop_name: str = ""
    customer: CustomerContact
    placed_at: Moment | None = None
    timezone: str | None = Field(default=None, description="The customer's time zone (IANA), in which the order's "
                                 "own moments (placed_at) are shown; none: UTC")
    lines: list[OrderLine] = Field(default_factory=list)
    totals: Totals | None = None
    pickup: Pickup | None = None
    shipment: Shipment | None = None
    delay: Delay | None = None
    removal: Removal | None = None
    change: Change | None = None
    cancellation: Cancellation | None = None
    refund: Refund | None = None
    return_request: ReturnRequest | None = None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        try:
            return validate_currency(value)
        except MoneyError as exc:
            raise ValueError(str(exc)) from exc


REQUIRED_SECTION = {"ready_for_pickup": "pickup", "shipped": "shipment", "cancelled": "cancellation",
                    "refunded": "refund", "fulfilment_changed": "change", "items_removed": "removal",
                    "return_authorised": "return_request", "return_received": "return_request"}


class NotifyPayload(_Part):
    """The payload of an ``orders.notify`` outbox event (see the module docstring)."""

    template: TemplateName
    order_id: int | str
    locale: str | None = None
    data: NotificationData

    @model_validator(mode="after")
    def _sections(self) -> NotifyPayload:
        section = REQUIRED_SECTION.get(self.template)
        if section and getattr(self.data, section) is None:
            raise ValueError(f"template {self.template!r} needs data.{section}")
        return self


def notify_event(payload: NotifyPayload) -> dict[str, Any]:
    """The outbox event for a validated payload, for ``outbox.append_events`` (validate when you emit)."""
    return {"topic": TOPIC, "payload": payload.model_dump(mode="json", exclude_none=True)}


# --- API -----------------------------------------------------------------------------------------------

DeliveryStatus = Literal["pending", "sent", "failed", "parked", "skipped"]


class NotificationDeliveryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: int
    template: str
    channel: str
    recipient: str
    locale: str
    order_ref: str
    order_number: str
    customer_id: int | None
    subject: str
    status: str
    provider: str | None
    provider_id: str | None
    error: str | None
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    sent_at: datetime | None


class NotificationDeliveryDetail(NotificationDeliveryRead):
    body_text: str
    body_html: str | None


class NotificationPreview(BaseModel):
    template: TemplateName
    locale: str = "en"
    currency: str = Field(default="PLN", description="Currency of the sample data (ignored when data is given)")
    data: dict[str, Any] | None = Field(default=None, description="Data as in the orders.notify payload; "
                                                                  "sample data when omitted")

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value


class RenderedMessage(BaseModel):
    template: str
    locale: str
    subject: str
    text: str
    html: str
    sms: str


class NotificationPreferenceUpdate(BaseModel):
    channels: list[Channel] = Field(default_factory=lambda: ["email"],
                                    description="Empty: no optional messages")
    opted_out: list[TemplateName] = Field(default_factory=list)
    locale: str | None = None

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is not None and value not in SUPPORTED_LOCALES:
            raise ValueError(f"locale must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value


class NotificationPreferenceRead(NotificationPreferenceUpdate):
    customer_id: int
