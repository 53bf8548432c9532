"""The Allegro connector: stock, prices and publication by batch commands, orders from the event journal,
fulfilment status and tracking numbers, read-back and offer events for drift.

Channel record: ``kind = marketplace_allegro`` (or ``settings.connector = "allegro"``); ``settings.base_url``
(default ``https://api.allegro.pl``; the sandbox is ``https://api.allegro.pl.allegrosandbox.pl``),
``settings.orders_start`` (``"beginning"``, default, or ``"latest"``: skip the backlog), ``settings.rate_limits``;
secret ``access_token`` (the seller's OAuth bearer token). With secrets ``refresh_token``, ``client_id`` and
``client_secret`` (and ``settings.auth_url``, default ``https://allegro.pl``; ``settings.redirect_uri`` if the
application registered one) the connector refreshes the token before it expires and on a 401, and stores the
rotated pair encrypted (``oauth.py``).
Every call sends ``Accept``/``Content-Type: application/vnd.allegro.public.v1+json`` (the media type of the
OpenAPI document, mattesilver/allegro-swagger ``allegro-openapi.yaml``).

Rate limits (developer.allegro.pl/en/command and our ``reference/channels.md``; the 2021 OpenAPI's are out of
date): 9,000 requests/min per client id (exceeding it blocks the client for a minute), quantity changes
250,000/h or 9,000/min, price changes 150,000/h or 9,000/min. A 429 carries ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from omniretail.platform import money

from ...sync.ratelimit import RateLimit, Throttled
from ..base import (
    ChannelRejected,
    ChannelState,
    ChannelUnavailable,
    Connector,
    FulfilmentUpdate,
    InventoryUpdate,
    ItemResult,
    ListingRef,
    ListingUpdate,
    OrderPage,
    PriceUpdate,
    RateLimited,
)
from ..http import body_of, error_text, send
from . import oauth
from .commands import PRICE, PUBLICATION, QUANTITY, CommandRunner, split
from .orders import FULFILMENT_STATUS, checkout_form_to_order, waybill_request

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
READ_ONE_BY_ONE = 50  # read back fewer offers than this with GET /sale/offers/{id}; more: page the list
OFFER_PAGE = 1000  # GET /sale/offers limit maximum
EVENT_PAGE = 1000  # GET /order/events and /sale/offer-events limit maximum


def _need(secrets: dict[str, str], name: str, channel: str) -> str:
    value = secrets.get(name)
    if not value:
        raise ChannelRejected(f"channel {channel}: secret {name!r} is needed to refresh the Allegro token")
    return value


class AllegroConnector(Connector):
    name = "allegro"
    external_key: ClassVar[str] = "offer_id"
    supports_orders = True
    supports_fulfilment = True
    supports_read_back = True
    # a batch is grouped by target value into commands (one request each, plus one read of its task report): the
    # bigger the batch, the more offers per command. 1,000 (a command's most) is 6.7 s of 9,000 offer changes/min
    max_batch = 1000
    # a batch takes the offer changes of all of it before its first command (``_charge``); one batch per engine
    # at a time keeps that wait under ``budget_wait_s`` (the next claim takes what changed meanwhile, coalesced)
    max_in_flight = 1
    default_limits: ClassVar[dict[str, RateLimit]] = {
        "requests": RateLimit(rate=150.0, burst=1500.0),  # 9,000/min per client id
        "quantity_changes": RateLimit(rate=150.0, burst=9000.0),  # 9,000 offers/min …
        "quantity_changes_hour": RateLimit(rate=250_000 / 3600, burst=250_000.0),  # … and 250,000/h
        "price_changes": RateLimit(rate=150.0, burst=9000.0),  # 9,000/min …
        "price_changes_hour": RateLimit(rate=150_000 / 3600, burst=150_000.0),  # … and 150,000/h
    }

    @property
    def base_url(self) -> str:
        return str(self.setting("base_url", "https://api.allegro.pl")).rstrip("/")

    def _runner(self) -> CommandRunner:
        return CommandRunner(self._request, check_after=float(self.setting("command_check_s", 1.0)),
                             poll_interval=float(self.setting("command_poll_s", 0.5)),
                             timeout=float(self.setting("command_timeout_s", 20.0)))

    async def _charge(self, kind, offers: int) -> None:
        """Take the offer changes of a whole batch before its first command: either all of it goes out, or
        (:class:`Throttled`, the budget will not be there within ``budget_wait_s``) none of it."""
        wait = float(self.setting("budget_wait_s", 15.0))
        for bucket in kind.buckets:
            await self.limiter.acquire(bucket, offers, max_wait=wait)

    async def _request(self, method: str, path: str, *, json: Any = None, params: Any = None):
        await self.limiter.acquire("requests", 1)
        token = await self.access_token()
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE}
            if json is not None:
                headers["Content-Type"] = MEDIA_TYPE
            try:
                return await send(self.http, method, self.base_url + path, what=f"Allegro {method} {path}",
                                  json=json, params=params, headers=headers)
            except ChannelRejected as exc:
                # 401 invalid_token: expired early or revoked — refresh once and resend the same request
                if exc.status != 401 or attempt == 2 or not self.channel.secrets.get(oauth.REFRESH):
                    raise
                token = await self.refresh_access_token(stale=token)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- OAuth ------------------------------------------------------------------------------------------

    async def access_token(self) -> str:
        """The bearer token, refreshed first when it expires within ``oauth.REFRESH_MARGIN_S``."""
        if oauth.due_for_refresh(self.channel.secrets):
            return await self.refresh_access_token(stale=self.channel.secrets.get(oauth.ACCESS))
        return self.secret(oauth.ACCESS)

    async def refresh_access_token(self, *, stale: str | None) -> str:
        """Refresh (once per process at a time); under the store's lock, adopt a pair another worker stored
        since ``stale`` was read rather than spend the refresh token again."""
        lock = self.__dict__.setdefault("_refresh_lock", asyncio.Lock())
        async with lock:
            current = self.channel.secrets.get(oauth.ACCESS)
            if current and current != stale and not oauth.due_for_refresh(self.channel.secrets):
                return current  # refreshed by another call of this process meanwhile

            async def change(stored: dict[str, str]) -> dict[str, str] | None:
                fresh = stored.get(oauth.ACCESS)
                if fresh and fresh != stale and not oauth.due_for_refresh(stored):
                    return None  # another worker refreshed: use its pair
                pair = await oauth.refresh(
                    self.http, auth_url=str(self.setting("auth_url", oauth.DEFAULT_AUTH_URL)),
                    client_id=_need(stored, "client_id", self.channel.code),
                    client_secret=_need(stored, "client_secret", self.channel.code),
                    refresh_token=_need(stored, oauth.REFRESH, self.channel.code),
                    redirect_uri=self.setting("redirect_uri"))
                return {**stored, **pair.as_secrets()}

            store = self.secret_store or oauth.InMemorySecrets(self.channel.secrets)
            stored = await store.update(change)
            self.channel.secrets.update(stored)
            return self.secret(oauth.ACCESS)

    # --- listings ---------------------------------------------------------------------------------------

    @staticmethod
    def _offer(ref: ListingRef) -> str | None:
        offer = ref.external.get("offer_id")
        return None if offer in (None, "") else str(offer)

    async def _commands(self, kind, items: list[tuple[Any, Any]], modification) -> list[ItemResult]:
        """``items``: (update, value). Offers without an id fail alone; the rest go in one command per value."""
        results, ready = [], []
        for update, value in items:
            offer = self._offer(update.listing)
            if offer is None:
                results.append(ItemResult(update.listing.listing_id, False, "listing has no Allegro offer_id",
                                          retryable=False))
            else:
                ready.append((update.listing.listing_id, update.version, update.listing.attempt, offer, value))
        batches = split(kind, self.channel.id, ready, modification)
        if batches:
            await self._charge(kind, sum(len(b.listings) for b in batches))
        runner = self._runner()
        gate = asyncio.Semaphore(int(self.setting("commands_in_flight", 64)))
        stop = asyncio.Event()

        async def run(batch) -> list[ItemResult]:
            async with gate:  # commands of different values are independent: several on the wire at once
                if stop.is_set():  # another command met a 429 / an outage: send no more in this call
                    return []
                try:
                    return await runner.run(batch)
                except BaseException:
                    stop.set()
                    raise

        outcomes = await asyncio.gather(*(run(b) for b in batches), return_exceptions=True)
        for outcome in outcomes:
            if not isinstance(outcome, BaseException):
                results.extend(outcome)
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if isinstance(failure, (RateLimited, Throttled)):  # what did go through is recorded; the rest comes back
            failure.partial = results
        if failure is not None:  # else the whole call is retried: commands that did run are found by their ids
            raise failure
        return results

    async def push_inventory(self, items: list[InventoryUpdate]) -> list[ItemResult]:
        return await self._commands(QUANTITY, [(i, max(0, i.quantity)) for i in items],
                                    lambda q: {"changeType": "FIXED", "value": q})

    async def push_prices(self, items: list[PriceUpdate]) -> list[ItemResult]:
        def modification(value: tuple[str, str]) -> dict[str, Any]:
            amount, currency = value
            return {"type": "FIXED_PRICE", "price": {"amount": amount, "currency": currency}}

        return await self._commands(PRICE, [(i, (str(money.from_minor(i.price_minor, i.currency)), i.currency))
                                            for i in items], modification)

    async def push_listings(self, items: list[ListingUpdate]) -> list[ItemResult]:
        """Publication only (ACTIVATE / END); titles and descriptions live in Allegro's product catalogue."""
        return await self._commands(PUBLICATION, [(i, "ACTIVATE" if i.published else "END") for i in items],
                                    lambda action: {"action": action})

    # --- reading back -------------------------------------------------------------------------------------

    def _state(self, listing_id: int, offer: dict[str, Any]) -> ChannelState:
        stock = (offer.get("stock") or {}).get("available")
        price = ((offer.get("sellingMode") or {}).get("price") or {})
        price_minor = None
        if price.get("amount") is not None:
            price_minor = money.to_minor(money.parse_amount(str(price["amount"]), price.get("currency")
                                                            or self.channel.currency), self.channel.currency)
        status = (offer.get("publication") or {}).get("status")
        return ChannelState(listing_id, True, None if stock is None else int(stock), price_minor,
                            None if status is None else status in ("ACTIVE", "ACTIVATING"))

    async def read_back(self, listings: list[ListingRef]) -> list[ChannelState]:
        """``GET /sale/offers/{offerId}`` for a few offers; ``GET /sale/offers?limit=&offset=`` pages for many."""
        wanted = {}
        states = []
        for ref in listings:
            offer = self._offer(ref)
            if offer is None:
                states.append(ChannelState(ref.listing_id, False, error="listing has no Allegro offer_id"))
            else:
                wanted.setdefault(offer, []).append(ref.listing_id)
        if len(wanted) < READ_ONE_BY_ONE:
            for offer_id, ids in wanted.items():
                response = await self._request("GET", f"/sale/offers/{offer_id}")
                if response.status_code == 404:
                    states.extend(ChannelState(i, False, error="offer not found on Allegro") for i in ids)
                    continue
                body = body_of(response)
                states.extend(self._state(i, body) for i in ids)
            return states
        seen: set[str] = set()
        offset = 0
        while True:
            response = await self._request("GET", "/sale/offers", params={"limit": OFFER_PAGE, "offset": offset})
            offers = body_of(response).get("offers") or []
            for offer in offers:
                offer_id = str(offer.get("id"))
                if offer_id in wanted:
                    seen.add(offer_id)
                    states.extend(self._state(i, offer) for i in wanted[offer_id])
            if len(offers) < OFFER_PAGE:
                break
            offset += len(offers)
        for offer_id in set(wanted) - seen:
            states.extend(ChannelState(i, False, error="offer not found on Allegro") for i in wanted[offer_id])
        return states

    async def changed_offers(self, cursor: str | None) -> tuple[set[str], str | None]:
        """Offers changed on Allegro since ``cursor`` (``GET /sale/offer-events``: stock, price, ended — hand
        edits included; the last 24 h are kept). Returns their ids and the new cursor."""
        params: dict[str, Any] = {"limit": EVENT_PAGE}
        if cursor:
            params["from"] = cursor
        changed: set[str] = set()
        while True:
            response = await self._request("GET", "/sale/offer-events", params=params)
            events = body_of(response).get("offerEvents") or []
            for event in events:
                offer_id = (event.get("offer") or {}).get("id")
                if offer_id is not None:
                    changed.add(str(offer_id))
            if events:
                cursor = str(events[-1]["id"])
                params["from"] = cursor
            if len(events) < EVENT_PAGE:
                return changed, cursor

    # --- orders -------------------------------------------------------------------------------------------

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        if cursor is None and self.setting("orders_start", "beginning") == "latest":
            stats = body_of(await self._request("GET", "/order/event-stats"))
            return OrderPage([], str(((stats.get("latestEvent") or {}).get("id")) or "") or None, more=True)
        limit = int(self.setting("orders_page", 100))
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["from"] = cursor
        events = body_of(await self._request("GET", "/order/events", params=params)).get("events") or []
        form_ids = list(dict.fromkeys(str(((e.get("order") or {}).get("checkoutForm") or {}).get("id"))
                                      for e in events if (e.get("order") or {}).get("checkoutForm")))
        orders = []
        for form_id in form_ids:  # the current form, whatever event pointed at it
            response = await self._request("GET", f"/order/checkout-forms/{form_id}")
            if response.status_code == 404:
                continue
            orders.append(checkout_form_to_order(self.channel.id, body_of(response)))
        return OrderPage(orders, str(events[-1]["id"]) if events else cursor, more=len(events) >= limit)

    async def push_fulfilment(self, shipment: FulfilmentUpdate) -> ItemResult:
        path = f"/order/checkout-forms/{shipment.external_id}"
        if shipment.kind == "tracking":
            form = body_of(await self._request("GET", path))
            body = waybill_request(form, carrier=shipment.carrier or "OTHER",
                                   tracking_number=shipment.tracking_number or "")
            response = await self._request("POST", f"{path}/shipments", json=body)
            return self._answer(response, "tracking number")
        status = FULFILMENT_STATUS.get(shipment.status or "")
        if status is None:
            return ItemResult(0, True, answer={"skipped": f"no Allegro status for {shipment.status}"})
        for _ in range(3):  # 409: the form changed since we read it; read it again and retry
            form = body_of(await self._request("GET", path))
            response = await self._request("PUT", f"{path}/fulfillment", json={"status": status},
                                           params={"checkoutForm.revision": form.get("revision")})
            if response.status_code != 409:
                return self._answer(response, f"fulfilment status {status}")
        raise ChannelUnavailable(f"Allegro {path}: revision kept changing (409 three times)")

    @staticmethod
    def _answer(response, what: str) -> ItemResult:
        if response.status_code in (200, 201, 204):
            return ItemResult(0, True, answer=body_of(response) if response.content else {"status": 204})
        answer = body_of(response)
        if response.status_code == 404:
            raise ChannelRejected(f"Allegro: order not found for {what}", status=404, answer=answer)
        return ItemResult(0, False, f"Allegro refused the {what} ({response.status_code}): {error_text(answer)}",
                          retryable=False, answer=answer if isinstance(answer, dict) else None)
