"""One Shopify Admin GraphQL call under the cost-based rate limit.

Source: shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits (GraphQL Admin API): a query's calculated cost
(objects 1 point, scalars 0, connections 2 + the objects asked for, a mutation 10) is charged against a bucket
that refills at ``restoreRate`` points per second (100/s standard, 200/s Advanced, 1,000/s Plus); every answer
reports ``extensions.cost.throttleStatus {maximumAvailable, currentlyAvailable, restoreRate}`` and a request over
budget answers with ``errors: [{extensions: {code: "THROTTLED"}}]`` (HTTP 200). The channel's ``cost`` bucket is
charged an estimate before the call and set to ``currentlyAvailable`` after it, so every worker sharing the
bucket sees what Shopify says is left.
"""

from __future__ import annotations

from typing import Any

import httpx

from ..base import ChannelRejected, ChannelUnavailable, RateLimited
from ..http import body_of, error_text, send

THROTTLED = "THROTTLED"


class GraphQL:
    def __init__(self, http: httpx.AsyncClient, limiter, *, url: str, token: str) -> None:
        self.http = http
        self.limiter = limiter
        self.url = url
        self.token = token

    async def __call__(self, document: str, variables: dict[str, Any], *, cost: float = 10.0) -> dict[str, Any]:
        await self.limiter.acquire("cost", cost)
        response = await send(self.http, "POST", self.url, what="Shopify GraphQL",
                              json={"query": document, "variables": variables},
                              headers={"X-Shopify-Access-Token": self.token, "Content-Type": "application/json"})
        body = body_of(response)
        if response.status_code >= 400:
            raise ChannelRejected(f"Shopify GraphQL {response.status_code}: {error_text(body)}",
                                  status=response.status_code, answer=body)
        throttle = ((body.get("extensions") or {}).get("cost") or {}).get("throttleStatus") or {}
        if "currentlyAvailable" in throttle:
            await self.limiter.set_available("cost", float(throttle["currentlyAvailable"]))
        errors = body.get("errors") or []
        if any(((e.get("extensions") or {}).get("code") == THROTTLED) for e in errors if isinstance(e, dict)):
            requested = float(((body.get("extensions") or {}).get("cost") or {}).get("requestedQueryCost") or cost)
            rate = float(throttle.get("restoreRate") or 50.0)
            available = float(throttle.get("currentlyAvailable") or 0.0)
            raise RateLimited("Shopify: THROTTLED", retry_after=max(0.5, (requested - available) / rate),
                              status=200, answer=body)
        if errors and not body.get("data"):
            raise ChannelUnavailable(f"Shopify GraphQL errors: {error_text(body)}", answer=body)
        return body.get("data") or {}


def user_errors(payload: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((payload or {}).get("userErrors") or [])


def item_index(error: dict[str, Any], list_field: str) -> int | None:
    """The index of the input item an error names: ``field: ["input", "quantities", "3", …]`` → 3."""
    field = error.get("field") or []
    for position, part in enumerate(field):
        if part == list_field and position + 1 < len(field):
            try:
                return int(field[position + 1])
            except (TypeError, ValueError):
                return None
    return None
