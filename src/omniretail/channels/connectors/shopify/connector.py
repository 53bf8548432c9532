"""The Shopify connector (Admin GraphQL): stock per location with compare-and-set and idempotency keys, prices,
publication, orders in, fulfilments with tracking out, read-back.

Channel record: ``settings.connector = "shopify"``, ``settings.shop_url`` (``https://<shop>.myshopify.com``),
``settings.api_version`` (default ``2026-04``), ``settings.location_id`` (the default ``gid://shopify/Location/…``),
``settings.rate_limits``; secret ``access_token`` (``X-Shopify-Access-Token``). A listing's ``external`` holds
``inventory_item_id``, ``variant_id``, ``product_id`` and optionally its own ``location_id``.

Stock (shopify.dev ``mutations/inventorySetQuantities``): the hub is the source of truth, so quantities are set
absolutely, each with ``changeFromQuantity`` = what the channel last acknowledged. A ``CHANGE_FROM_QUANTITY_STALE``
means the quantity moved on Shopify (a sale, a hand edit): the connector reads the current quantity back and
sets ours over it with that value as ``changeFromQuantity`` (or stops if Shopify already shows what we want).
A listing never acknowledged is read back first. Every mutation carries ``@idempotent(key:)`` derived from its
variables, so a retry of a request whose answer was lost returns the first result instead of applying twice.
The mutation is all-or-nothing: ``userErrors`` name the failing item by ``field`` (``["input", "quantities",
"<i>", …]``); those items fail (or are read back, if stale) and the others go again in a new mutation.
The key is salted with the items' (listing, version, attempt), so a later write that happens to repeat an earlier
one's variables is a new request, not a replay.

Prices (``productVariantsBulkUpdate``, 10 points per product): a price the hub has no acknowledgement of is read
back first (1 point per variant) and only sent when Shopify shows another; a batch stops after ``price_push_s``
and hands back what it did (``Throttled.partial``), so a batch of many products never outlasts its claim.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, ClassVar

from omniretail.platform import money

from ...sync.ratelimit import RateLimit, Throttled
from ..base import (
    ChannelState,
    Connector,
    FulfilmentUpdate,
    InventoryUpdate,
    ItemResult,
    ListingRef,
    ListingUpdate,
    OrderPage,
    PriceUpdate,
)
from . import documents, orders
from .client import GraphQL, item_index, user_errors

KEY_NAMESPACE = uuid.UUID("8a3d1f0e-2c4b-4e51-9b7a-3e6c2d9f1a05")
STALE = "CHANGE_FROM_QUANTITY_STALE"
MAX_ROUNDS = 3
QUANTITY_LIMIT = 1_000_000_000  # quantities within ±1,000,000,000 (InventoryQuantityInput)


def idempotency_key(channel_id: int, variables: dict[str, Any], salt: str = "") -> str:
    """The same variables give the same key (a retry), other variables another (a new request)."""
    return str(uuid.uuid5(KEY_NAMESPACE, f"{channel_id}|{salt}|{json.dumps(variables, sort_keys=True)}"))


class ShopifyConnector(Connector):
    name = "shopify"
    external_key = "inventory_item_id"
    supports_orders = True
    supports_fulfilment = True
    supports_read_back = True
    max_batch = 250  # "input arguments that accept an array have a maximum size of 250" (shopify.dev usage/limits)
    default_limits: ClassVar[dict[str, RateLimit]] = {"cost": RateLimit(rate=100.0, burst=2000.0)}  # standard plan: 100 points/s restored

    @property
    def gql(self) -> GraphQL:
        shop = str(self.setting("shop_url", "")).rstrip("/")
        version = self.setting("api_version", "2026-04")
        return GraphQL(self.http, self.limiter, url=f"{shop}/admin/api/{version}/graphql.json",
                       token=self.secret("access_token"))

    def _location(self, ref: ListingRef) -> str | None:
        return ref.external.get("location_id") or self.setting("location_id")

    # --- stock ----------------------------------------------------------------------------------------------

    async def _levels(self, refs: list[ListingRef]) -> dict[int, int | None]:
        """The ``available`` quantity Shopify shows now, per listing (None: no level at that location)."""
        out: dict[int, int | None] = {}
        by_location: dict[str, list[ListingRef]] = {}
        for ref in refs:
            by_location.setdefault(self._location(ref) or "", []).append(ref)
        for location, group in by_location.items():
            ids = list(dict.fromkeys(r.external.get("inventory_item_id") for r in group))
            data = await self.gql(documents.LEVELS, {"ids": ids, "location": location}, cost=1 + len(ids))
            found = {}
            for node in data.get("nodes") or []:
                if node and node.get("id"):
                    quantities = ((node.get("inventoryLevel") or {}).get("quantities")) or []
                    found[node["id"]] = next((q["quantity"] for q in quantities if q.get("name") == "available"),
                                             None)
            for ref in group:
                out[ref.listing_id] = found.get(ref.external.get("inventory_item_id"))
        return out

    async def push_inventory(self, items: list[InventoryUpdate]) -> list[ItemResult]:
        results: dict[int, ItemResult] = {}
        pending = []
        for item in items:
            if not item.listing.external.get("inventory_item_id") or not self._location(item.listing):
                results[item.listing.listing_id] = ItemResult(item.listing.listing_id, False,
                                                              "listing has no inventory_item_id/location_id",
                                                              retryable=False)
            else:
                pending.append(item)
        unknown = [i.listing for i in pending if i.previous is None]
        believed = {i.listing.listing_id: i.previous for i in pending}
        if unknown:
            believed.update(await self._levels(unknown))
        for _round in range(MAX_ROUNDS):
            if not pending:
                break
            pending, stale = await self._set_round(pending, believed, results)
            if stale:  # read what Shopify shows now, and set ours over it
                current = await self._levels([i.listing for i in stale])
                for item in stale:
                    now = current.get(item.listing.listing_id)
                    if now == item.quantity:  # already what we want (e.g. our earlier attempt went through)
                        results[item.listing.listing_id] = ItemResult(item.listing.listing_id, True,
                                                                      answer={"already": now})
                    else:
                        believed[item.listing.listing_id] = now
                        pending.append(item)
        for item in pending:
            results[item.listing.listing_id] = ItemResult(item.listing.listing_id, False,
                                                          "quantity kept changing on Shopify (stale compare-and-set)")
        return [results[i.listing.listing_id] for i in items]

    async def _set_round(self, items: list[InventoryUpdate], believed: dict[int, int | None],
                         results: dict[int, ItemResult]) -> tuple[list[InventoryUpdate], list[InventoryUpdate]]:
        """One mutation; returns (items to send again, items found stale)."""
        quantities = [{"inventoryItemId": i.listing.external["inventory_item_id"],
                       "locationId": self._location(i.listing),
                       "quantity": max(0, min(i.quantity, QUANTITY_LIMIT)),
                       "changeFromQuantity": believed.get(i.listing.listing_id)} for i in items]
        variables = {"input": {"name": "available", "reason": "correction", "quantities": quantities,
                               "referenceDocumentUri": f"gid://omniretail/ChannelSync/{self.channel.id}"}}
        # the (listing, version, attempt) of every item: a retry of this request gets its key again, but a later
        # write that happens to have the same variables (5 → 7, back to 5, then 5 → 7 again) is a new request —
        # Shopify would answer it with the first one's result and apply nothing
        key = idempotency_key(self.channel.id, variables, salt=",".join(sorted(
            f"{i.listing.listing_id}:{i.version}:{i.listing.attempt}" for i in items)))
        data = await self.gql(documents.SET_QUANTITIES % key, variables, cost=10)  # a mutation costs 10 points
        payload = data.get("inventorySetQuantities") or {}
        errors = user_errors(payload)
        if not errors:
            for item in items:
                results[item.listing.listing_id] = ItemResult(item.listing.listing_id, True,
                                                              answer={"idempotency_key": key})
            return [], []
        failed: dict[int, dict[str, Any]] = {}
        unplaced = []
        for error in errors:
            index = item_index(error, "quantities")
            if index is None or not 0 <= index < len(items):
                unplaced.append(error)
            else:
                failed[index] = error
        if unplaced:  # an error about the whole request: nothing was applied, every item fails with it
            message = "; ".join(f"{e.get('code')}: {e.get('message', '')}" for e in unplaced)
            for item in items:
                results[item.listing.listing_id] = ItemResult(item.listing.listing_id, False, f"Shopify: {message}",
                                                              answer=payload)
            return [], []
        again, stale = [], []
        for index, item in enumerate(items):
            error = failed.get(index)
            if error is None:
                again.append(item)  # not applied (all-or-nothing): send in the next round
            elif error.get("code") == STALE:
                stale.append(item)
            else:
                results[item.listing.listing_id] = ItemResult(item.listing.listing_id, False,
                                                              f"Shopify: {error.get('code')}: {error.get('message')}",
                                                              answer={"userError": error})
        return again, stale

    # --- prices and publication ------------------------------------------------------------------------------

    async def _variants(self, refs: list[ListingRef]) -> dict[str, dict[str, Any]]:
        """Variant id -> ``{id, price, product: {id, status}}`` as Shopify shows it now (one query, 1 + n points)."""
        ids = list(dict.fromkeys(r.external["variant_id"] for r in refs if r.external.get("variant_id")))
        if not ids:
            return {}
        data = await self.gql(documents.VARIANTS, {"ids": ids}, cost=1 + len(ids))
        return {n["id"]: n for n in data.get("nodes") or [] if n}

    def _price_minor(self, variant: dict[str, Any] | None) -> int | None:
        if variant is None or variant.get("price") is None:
            return None
        return money.to_minor(money.parse_amount(str(variant["price"]), self.channel.currency), self.channel.currency)

    async def push_prices(self, items: list[PriceUpdate]) -> list[ItemResult]:
        """One ``productVariantsBulkUpdate`` (10 points) per product. A price the hub has no acknowledgement of
        (a listing taken over from a stopped worker, never synced) is read first — 1 point per variant — and
        not sent again when Shopify already shows it."""
        results: dict[int, ItemResult] = {}
        by_product: dict[str, list[PriceUpdate]] = {}
        unknown = [i.listing for i in items if i.previous is None and i.listing.external.get("variant_id")]
        shown = await self._variants(unknown) if unknown else {}
        for item in items:
            ext = item.listing.external
            if not ext.get("product_id") or not ext.get("variant_id"):
                results[item.listing.listing_id] = ItemResult(item.listing.listing_id, False,
                                                              "listing has no product_id/variant_id", retryable=False)
            elif item.previous is None and self._price_minor(shown.get(ext["variant_id"])) == item.price_minor:
                results[item.listing.listing_id] = ItemResult(item.listing.listing_id, True,
                                                              answer={"already": item.price_minor})
            else:
                by_product.setdefault(ext["product_id"], []).append(item)
        # a mutation per product: a batch of many products can outlast the claim; stop after ``price_push_s``
        # (or when the cost budget says wait) and hand back what was done — the rest is claimed again, not failed
        deadline = time.monotonic() + float(self.setting("price_push_s", 10.0))
        for product_id, group in by_product.items():
            variants = [{"id": i.listing.external["variant_id"],
                         "price": str(money.from_minor(i.price_minor, i.currency))} for i in group]
            try:
                if results and time.monotonic() > deadline:  # at least one product per call: always progress
                    raise Throttled("price_push_s", 0.5)
                data = await self.gql(documents.VARIANTS_BULK_UPDATE, {"productId": product_id,
                                                                       "variants": variants}, cost=10)
            except Throttled as exc:
                raise Throttled(exc.bucket, exc.retry_after, partial=list(results.values())) from exc
            payload = data.get("productVariantsBulkUpdate") or {}
            errors = {item_index(e, "variants"): e for e in user_errors(payload)}
            for index, item in enumerate(group):
                error = errors.get(index) or errors.get(None)
                results[item.listing.listing_id] = ItemResult(
                    item.listing.listing_id, error is None,
                    None if error is None else f"Shopify: {error.get('message')}", answer=payload)
        return [results[i.listing.listing_id] for i in items]

    async def push_listings(self, items: list[ListingUpdate]) -> list[ItemResult]:
        """Publication: ``productUpdate(product: {id, status: ACTIVE | DRAFT})``, once per product."""
        results = []
        done: dict[tuple[str, bool], ItemResult] = {}
        for item in items:
            product_id = item.listing.external.get("product_id")
            if not product_id:
                results.append(ItemResult(item.listing.listing_id, False, "listing has no product_id", retryable=False))
                continue
            key = (product_id, item.published)
            if key not in done:
                data = await self.gql(documents.PRODUCT_STATUS, {"product": {
                    "id": product_id, "status": "ACTIVE" if item.published else "DRAFT"}}, cost=10)
                errors = user_errors(data.get("productUpdate"))
                done[key] = ItemResult(0, not errors, "; ".join(e.get("message", "") for e in errors) or None)
            outcome = done[key]
            results.append(ItemResult(item.listing.listing_id, outcome.ok, outcome.error))
        return results

    # --- reading back, orders, fulfilment --------------------------------------------------------------------

    async def read_back(self, listings: list[ListingRef]) -> list[ChannelState]:
        usable = [r for r in listings if r.external.get("inventory_item_id")]
        levels = await self._levels(usable) if usable else {}
        variants = await self._variants(listings)
        states = []
        for ref in listings:
            variant = variants.get(ref.external.get("variant_id"))
            if ref.listing_id not in levels and variant is None:
                states.append(ChannelState(ref.listing_id, False, error="not found on Shopify"))
                continue
            status = ((variant or {}).get("product") or {}).get("status")
            states.append(ChannelState(ref.listing_id, True, levels.get(ref.listing_id), self._price_minor(variant),
                                       None if status is None else status == "ACTIVE"))
        return states

    async def fetch_orders(self, cursor: str | None) -> OrderPage:
        return await orders.fetch_orders(self.gql, self.channel.id, cursor,
                                         page=int(self.setting("orders_page", 50)))

    async def push_fulfilment(self, shipment: FulfilmentUpdate) -> ItemResult:
        if shipment.kind != "tracking" and shipment.status not in ("shipped", "delivered"):
            return ItemResult(0, True, answer={"skipped": f"Shopify has no seller status for {shipment.status}"})
        return await orders.create_fulfilment(self.gql, order_id=shipment.external_id, carrier=shipment.carrier,
                                              number=shipment.tracking_number, url=shipment.tracking_url)
