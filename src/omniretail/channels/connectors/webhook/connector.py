"""The generic webhook/REST channel: a custom webshop or an ERP that takes signed webhooks.

Channel record: ``kind = custom`` (or ``settings.connector = "webhook"``), ``settings.url`` (the receiver),
``settings.topics`` (hub topics relayed to it, e.g. ``["orders.status_changed", "orders.tracking"]``),
``settings.rate_limits``; secret ``signing_secret`` (see :mod:`.signing` for the signature and how to verify it).

Listing state goes out as batches: topics ``listing.inventory`` ``{"items": [{listing_id, sku, external,
quantity, version}]}``, ``listing.price`` (``price`` as a decimal string and ``currency``) and ``listing.content``
(``published``, ``content``). Any 2xx acknowledges every item, unless the answer names failures:
``{"results": [{"listing_id": 7, "ok": false, "error": "…"}]}``; 429 with ``Retry-After`` slows the channel
down; other 4xx fail the items (retried with back-off, parked in the end); 5xx and timeouts are retried.
Relayed hub events (``deliver_event``) go out the same way, one per delivery, from ``channel_delivery``.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import orjson

from omniretail.platform import clock, money

from ...sync.ratelimit import RateLimit
from ..base import Connector, InventoryUpdate, ItemResult, ListingUpdate, PriceUpdate, all_failed
from ..http import body_of, error_text, send
from .signing import signed_headers

DELIVERY_NAMESPACE = uuid.UUID("c1a7e9b2-5d40-4f6e-8c3b-7a2f9e1d0b64")


def delivery_id(channel_id: int, topic: str, items: list[tuple[int, int, int]]) -> str:
    """Stable per batch (listing, version, attempt): a retried batch has the id the receiver saw before."""
    key = ",".join(f"{a}:{b}:{c}" for a, b, c in sorted(items))
    return str(uuid.uuid5(DELIVERY_NAMESPACE, f"{channel_id}|{topic}|{key}"))


class WebhookConnector(Connector):
    name = "webhook"
    external_key = "sku"
    listings_by_default = True
    max_batch = 200
    default_limits: ClassVar[dict[str, RateLimit]] = {"requests": RateLimit(rate=20.0, burst=40.0)}

    async def deliver_event(self, *, topic: str, data: dict[str, Any], delivery: str) -> ItemResult:
        """POST one signed delivery; returns its outcome (the caller keeps the delivery log and retries)."""
        body = orjson.dumps({"id": delivery, "topic": topic, "occurred_at": clock.now().isoformat(), "data": data})
        await self.limiter.acquire("requests", 1)
        headers = signed_headers(self.secret("signing_secret"), body=body, delivery_id=delivery, topic=topic)
        response = await send(self.http, "POST", str(self.setting("url")), what=f"webhook {topic}", content=body,
                              headers=headers)
        answer = body_of(response) if response.content else {}
        if 200 <= response.status_code < 300:
            return ItemResult(0, True, answer=answer if isinstance(answer, dict) else {"answer": answer},
                              status=response.status_code)
        return ItemResult(0, False, f"receiver answered {response.status_code}: {error_text(answer)}",
                          answer=answer if isinstance(answer, dict) else None, status=response.status_code)

    async def _batch(self, topic: str, items: list[Any], rows: list[dict[str, Any]]) -> list[ItemResult]:
        ids = [i.listing.listing_id for i in items]
        delivery = delivery_id(self.channel.id, topic,
                               [(i.listing.listing_id, i.version, i.listing.attempt) for i in items])
        outcome = await self.deliver_event(topic=topic, data={"channel": self.channel.code, "items": rows},
                                           delivery=delivery)
        if not outcome.ok:
            return all_failed(ids, outcome.error or "refused", answer=outcome.answer)
        named = {r.get("listing_id"): r for r in (outcome.answer or {}).get("results") or [] if isinstance(r, dict)}
        results = []
        for listing_id in ids:
            verdict = named.get(listing_id)
            if verdict is not None and not verdict.get("ok", True):
                results.append(ItemResult(listing_id, False, f"receiver: {verdict.get('error') or 'refused'}",
                                          answer={"delivery": delivery, "result": verdict}))
            else:
                results.append(ItemResult(listing_id, True, answer={"delivery": delivery}))
        return results

    @staticmethod
    def _row(item: Any) -> dict[str, Any]:
        ref = item.listing
        return {"listing_id": ref.listing_id, "sku": ref.sku, "external": ref.external, "version": item.version}

    async def push_inventory(self, items: list[InventoryUpdate]) -> list[ItemResult]:
        return await self._batch("listing.inventory", items,
                                 [{**self._row(i), "quantity": max(0, i.quantity)} for i in items])

    async def push_prices(self, items: list[PriceUpdate]) -> list[ItemResult]:
        return await self._batch("listing.price", items, [
            {**self._row(i), "price": str(money.from_minor(i.price_minor, i.currency)), "currency": i.currency}
            for i in items])

    async def push_listings(self, items: list[ListingUpdate]) -> list[ItemResult]:
        return await self._batch("listing.content", items, [
            {**self._row(i), "published": i.published, "content": i.content, "content_hash": i.content_hash}
            for i in items])
