"""A webhook receiver for tests: verifies omniretail's signature, deduplicates on the delivery id, records what
it got, and can refuse items, answer 5xx or 429 with Retry-After."""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from omniretail.channels.connectors.webhook.signing import DELIVERY_HEADER, SIGNATURE_HEADER, verify

from .common import Behaviour


class WebhookReceiver:
    def __init__(self, *, secret: str = "whsec_test") -> None:
        self.secret = secret
        self.behaviour = Behaviour()
        self.deliveries: list[dict] = []  # accepted, first time seen
        self.duplicates = 0
        self.bad_signatures = 0
        self.seen: set[str] = set()
        self.refuse_listings: set[int] = set()
        self.state: dict[str, dict] = {}  # sku -> {"quantity", "price", ...} as the shop now shows it
        self.writes = 0  # listing quantities received
        self.app = Starlette(routes=[Route("/hooks", self.receive, methods=["POST"]),
                                     Route("/_bench/state", self.bench_state, methods=["GET"])])

    async def bench_state(self, request: Request) -> Response:
        """Not part of any protocol: what the receiving shop shows now (benchmark)."""
        return JSONResponse({"quantities": {sku: s["quantity"] for sku, s in self.state.items() if "quantity" in s},
                             "writes": self.writes, "requests": len(self.behaviour.requests)})

    async def receive(self, request: Request) -> Response:
        self.behaviour.requests.append((request.method, request.url.path))
        await self.behaviour.delay()
        raw = await request.body()
        if not verify(self.secret, body=raw, header=request.headers.get(SIGNATURE_HEADER, "")):
            self.bad_signatures += 1
            return JSONResponse({"error": "bad signature"}, status_code=401)
        forced = self.behaviour.take_forced()
        if forced == 429:
            return JSONResponse({"error": "slow down"}, status_code=429,
                                headers={"Retry-After": str(self.behaviour.retry_after_s)})
        if forced == 500:
            return JSONResponse({"error": "down"}, status_code=503)
        delivery = request.headers.get(DELIVERY_HEADER, "")
        body = json.loads(raw)
        if delivery in self.seen:
            self.duplicates += 1
            return JSONResponse({"duplicate": True})
        results = []
        for item in (body.get("data") or {}).get("items") or []:
            if item.get("listing_id") in self.refuse_listings:
                results.append({"listing_id": item["listing_id"], "ok": False, "error": "unknown product"})
                continue
            results.append({"listing_id": item.get("listing_id"), "ok": True})
            self.writes += "quantity" in item
            shown = self.state.setdefault(item.get("sku"), {})
            for key in ("quantity", "price", "published"):
                if key in item:
                    shown[key] = item[key]
        self.seen.add(delivery)
        self.deliveries.append({"id": delivery, "topic": body.get("topic"), "data": body.get("data"),
                                "headers": dict(request.headers)})
        return JSONResponse({"results": results})
