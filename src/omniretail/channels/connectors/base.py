"""The connector interface: one abstract base, one package per vendor (the shape of Netflix Dispatch's plugins).

The sync engine hands a connector batches of what a channel should show and gets one result per item back, so
one bad item never fails a batch. What fails a whole call is an exception: :class:`RateLimited` (a 429 or an
exhausted cost budget; the engine waits ``retry_after`` and retries without counting an attempt),
:class:`ChannelUnavailable` (5xx, timeouts, connection errors; retried with back-off) and
:class:`ChannelRejected` (401/403, a malformed request; counted as an attempt and parked in the end, with the
error visible).

A connector is built per channel from the channel record: non-secret ``settings`` (base URL, seller or shop
ids, rate limits) and secrets from ``channels.service.channel_secrets`` (tokens, signing keys). It calls its
platform with the shared ``httpx.AsyncClient`` it is given and takes tokens from the channel's rate limiter
before every call (``limiter.acquire(bucket, cost)``).
"""

from __future__ import annotations

from abc import ABC
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from omniretail.channels.sync.ratelimit import Limiter, RateLimit


@dataclass(frozen=True)
class ChannelConfig:
    id: int
    code: str
    kind: str
    currency: str
    locale: str
    settings: dict[str, Any]
    secrets: dict[str, str] = field(repr=False, default_factory=dict)


@dataclass(frozen=True)
class ListingRef:
    listing_id: int
    variant_id: int
    sku: str
    external: dict[str, Any]
    attempt: int = 0  # failures recorded so far for this listing (a retry after a failure is a new request)


@dataclass(frozen=True)
class InventoryUpdate:
    listing: ListingRef
    quantity: int
    version: int
    previous: int | None = None  # what the channel last acknowledged (compare-and-set where supported)


@dataclass(frozen=True)
class PriceUpdate:
    listing: ListingRef
    price_minor: int
    currency: str
    version: int
    previous: int | None = None


@dataclass(frozen=True)
class ListingUpdate:
    listing: ListingRef
    published: bool
    content: dict[str, Any]  # title, description, brand, gtin … as the hub has them
    content_hash: str | None
    version: int


@dataclass
class ItemResult:
    listing_id: int
    ok: bool
    error: str | None = None
    retryable: bool = True
    answer: dict[str, Any] | None = None
    status: int | None = None  # the HTTP status of the answer, where one call answered for the item


@dataclass(frozen=True)
class ChannelState:
    """What the channel shows for a listing (``found=False``: the channel does not know the listing)."""

    listing_id: int
    found: bool = True
    quantity: int | None = None
    price_minor: int | None = None
    published: bool | None = None
    error: str | None = None


@dataclass
class ChannelOrder:
    """An order as the channel reports it, mapped to ``orders.schemas.OrderImport`` fields (``data``), or the
    reason it could not be mapped (``error``)."""

    external_id: str
    data: dict[str, Any] | None
    error: str | None = None


@dataclass
class OrderPage:
    orders: list[ChannelOrder]
    cursor: str | None  # where the next call resumes; stored only once these orders are imported
    more: bool = False


@dataclass(frozen=True)
class FulfilmentUpdate:
    """A status change or a shipment of an order that came from this channel."""

    external_id: str  # the channel's order id
    kind: str  # status | tracking
    status: str | None = None  # the hub's fulfilment/order state (picking, shipped, cancelled …)
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    lines: tuple[dict[str, Any], ...] = ()
    delivery_id: str = ""  # stable per hub event: the receiver deduplicates on it


class ConnectorError(Exception):
    retryable: ClassVar[bool] = True

    def __init__(self, message: str, *, status: int | None = None, answer: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.answer = answer


class RateLimited(ConnectorError):
    def __init__(self, message: str, *, retry_after: float, status: int | None = 429, answer: Any = None) -> None:
        super().__init__(message, status=status, answer=answer)
        self.retry_after = retry_after
        self.partial: list[ItemResult] = []  # what the call had done before the channel said stop (recorded)


class ChannelUnavailable(ConnectorError):
    """5xx, timeout, connection refused: the channel may answer later."""


class ChannelRejected(ConnectorError):
    """The whole request was refused (credentials, permissions, a request the channel cannot take)."""

    retryable = False


class NotSupported(ConnectorError):
    retryable = False


class Connector(ABC):
    """One channel's connection to its platform. Subclasses override what their platform supports."""

    name: ClassVar[str]
    default_limits: ClassVar[dict[str, RateLimit]] = {}
    max_batch: ClassVar[int] = 100
    max_in_flight: ClassVar[int | None] = None  # batches of one channel on the wire at once per engine (None: its own)
    supports_orders: ClassVar[bool] = False
    supports_fulfilment: ClassVar[bool] = False
    supports_read_back: ClassVar[bool] = False
    listings_by_default: ClassVar[bool] = False  # push publication/content unless settings.sync_listings says
    external_key: ClassVar[str | None] = None  # the ``external`` field naming the listing on the channel

    def __init__(self, channel: ChannelConfig, *, http: httpx.AsyncClient, limiter: Limiter,
                 secret_store: Any = None) -> None:
        self.channel = channel
        self.http = http
        self.limiter = limiter
        # where rotated credentials go (an OAuth refresh): ``sync.connections.ChannelSecretStore`` in the worker;
        # None keeps them in ``channel.secrets`` only
        self.secret_store = secret_store

    @classmethod
    def limits_for(cls, settings: dict[str, Any]) -> dict[str, RateLimit]:
        """The connector's default buckets, overridden by ``settings.rate_limits`` ({bucket: {rate, burst}})."""
        limits = dict(cls.default_limits)
        for name, spec in (settings.get("rate_limits") or {}).items():
            limits[name] = RateLimit(rate=float(spec["rate"]), burst=float(spec.get("burst", spec["rate"])))
        return limits

    def setting(self, name: str, default: Any = None) -> Any:
        return self.channel.settings.get(name, default)

    def secret(self, name: str) -> str:
        value = self.channel.secrets.get(name)
        if not value:
            raise ChannelRejected(f"channel {self.channel.code}: secret {name!r} is not set")
        return value

    async def push_inventory(self, items: list[InventoryUpdate]) -> list[ItemResult]:
        raise NotSupported(f"{self.name} does not take stock updates")

    async def push_prices(self, items: list[PriceUpdate]) -> list[ItemResult]:
        raise NotSupported(f"{self.name} does not take price updates")

    async def push_listings(self, items: list[ListingUpdate]) -> list[ItemResult]:
        raise NotSupported(f"{self.name} does not take listing updates")

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        raise NotSupported(f"{self.name} has no orders to fetch")

    async def push_fulfilment(self, shipment: FulfilmentUpdate) -> ItemResult:
        raise NotSupported(f"{self.name} takes no fulfilment updates")

    async def read_back(self, listings: list[ListingRef]) -> list[ChannelState]:
        raise NotSupported(f"{self.name} cannot be read back")


def all_failed(ids: list[int], error: str, *, retryable: bool = True, answer: Any = None) -> list[ItemResult]:
    return [ItemResult(i, False, error, retryable, answer if isinstance(answer, dict) else None) for i in ids]
