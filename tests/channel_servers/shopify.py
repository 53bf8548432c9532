"""A local Shopify Admin GraphQL endpoint for tests: the operations the connector sends, with Shopify's semantics.

From shopify.dev (Admin GraphQL): ``inventorySetQuantities`` with ``changeFromQuantity`` required on every
quantity (null opts out) and ``CHANGE_FROM_QUANTITY_STALE`` when it does not match (the whole mutation is not
applied; ``userErrors.field`` names the item); ``@idempotent(key:)`` returning the first result for a repeated
key with the same variables, ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH`` for other variables; cost-based throttling
(``extensions.cost.throttleStatus``; ``THROTTLED`` errors over budget); ``productVariantsBulkUpdate``,
``productUpdate``, ``orders`` with ``updated_at`` search and cursor pages, ``fulfillmentCreate``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import Behaviour

KEY = re.compile(r'@idempotent\(key:\s*"([^"]+)"\)')
SINCE = re.compile(r"updated_at:>='([^']+)'")


class FakeShopify:
    def __init__(self, *, token: str = "shpat_test", maximum: float = 2000.0, restore_rate: float = 1000.0):
        self.token = token
        self.behaviour = Behaviour()
        self.maximum, self.restore_rate = maximum, restore_rate
        self.available, self.at = maximum, time.monotonic()
        self.lock = threading.Lock()
        self.levels: dict[tuple[str, str], int] = {}
        self.variants: dict[str, dict] = {}
        self.products: dict[str, str] = {}
        self.orders: list[dict] = []
        self.fulfillment_orders: dict[str, list[dict]] = {}
        self.fulfillments: list[dict] = []
        self.keys: dict[str, tuple[str, dict]] = {}
        self.mutations = 0  # inventorySetQuantities calls that changed something
        self.stale_answers = 0
        self.writes = 0  # quantities set
        self.app = Starlette(routes=[Route("/admin/api/{version}/graphql.json", self.graphql, methods=["POST"]),
                                     Route("/_bench/state", self.state, methods=["GET"])])

    # --- helpers for tests ---------------------------------------------------------------------------------

    def add_item(self, n: int, *, location: str = "gid://shopify/Location/1", quantity: int = 0,
                 price: str = "0.00") -> dict:
        item, variant, product = (f"gid://shopify/InventoryItem/{n}", f"gid://shopify/ProductVariant/{n}",
                                  f"gid://shopify/Product/{n}")
        self.levels[(item, location)] = quantity
        self.variants[variant] = {"id": variant, "price": price, "product": product}
        self.products[product] = "ACTIVE"
        return {"inventory_item_id": item, "variant_id": variant, "product_id": product, "location_id": location}

    def add_order(self, n: int, *, sku: str, quantity: int = 1, price: str = "10.00", financial: str = "PAID",
                  cancelled: bool = False, updated_at: str | None = None) -> dict:
        order_id = f"gid://shopify/Order/{n}"
        order = {"id": order_id, "name": f"#{1000 + n}", "createdAt": datetime.now(UTC).isoformat(),
                 "updatedAt": updated_at or datetime.now(UTC).isoformat(),
                 "cancelledAt": datetime.now(UTC).isoformat() if cancelled else None,
                 "displayFinancialStatus": financial, "email": "buyer@example.com", "phone": None,
                 "currencyCode": "PLN", "totalShippingPriceSet": {"shopMoney": {"amount": "0.0", "currencyCode": "PLN"}},
                 "shippingAddress": {"name": "Jan Kowalski", "address1": "Długa 1", "address2": None, "zip": "60-001",
                                     "city": "Poznań", "countryCodeV2": "PL", "phone": None},
                 "lineItems": {"nodes": [{"sku": sku, "quantity": quantity,
                                          "originalUnitPriceSet": {"shopMoney": {"amount": price,
                                                                                 "currencyCode": "PLN"}}}]}}
        self.orders = [o for o in self.orders if o["id"] != order_id] + [order]
        self.fulfillment_orders.setdefault(order_id, [{"id": f"gid://shopify/FulfillmentOrder/{n}",
                                                       "status": "OPEN"}])
        return order

    def quantity(self, item: str, location: str = "gid://shopify/Location/1") -> int:
        return self.levels[(item, location)]

    # --- the endpoint ---------------------------------------------------------------------------------------

    async def state(self, request: Request) -> Response:
        """Not Shopify: the available quantities now, and counts (benchmark)."""
        return JSONResponse({"quantities": {item: q for (item, _loc), q in self.levels.items()},
                             "writes": self.writes, "requests": len(self.behaviour.requests)})

    def _charge(self, cost: float) -> dict | None:
        with self.lock:
            now = time.monotonic()
            self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
            self.at = now
            throttled = self.available < cost
            if not throttled:
                self.available -= cost
            return {"requestedQueryCost": cost, "actualQueryCost": None if throttled else cost,
                    "throttleStatus": {"maximumAvailable": self.maximum, "currentlyAvailable": self.available,
                                       "restoreRate": self.restore_rate}}, throttled

    async def graphql(self, request: Request) -> Response:
        self.behaviour.requests.append((request.method, request.url.path))
        await self.behaviour.delay()
        if request.headers.get("x-shopify-access-token") != self.token:
            return JSONResponse({"errors": "[API] Invalid API key or access token"}, status_code=401)
        forced = self.behaviour.take_forced()
        if forced == 429:
            return JSONResponse({"errors": "Exceeded 2 calls per second"}, status_code=429,
                                headers={"Retry-After": str(self.behaviour.retry_after_s)})
        if forced == 500:
            return JSONResponse({"errors": "Internal error"}, status_code=502)
        body = await request.json()
        query, variables = body["query"], body.get("variables") or {}
        handler, cost = self._route(query, variables)
        extensions, throttled = self._charge(cost)
        if throttled:
            return JSONResponse({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                                 "extensions": {"cost": extensions}})
        return JSONResponse({"data": handler(query, variables), "extensions": {"cost": extensions}})

    def _route(self, query: str, variables: dict):
        if "inventorySetQuantities" in query:  # a mutation: 10 points; arrays ≤ 250 items
            if len(variables["input"]["quantities"]) > 250:
                raise ValueError("input arrays have a maximum size of 250")
            return self._set_quantities, 10
        if "query Levels" in query:
            return self._levels, 1 + len(variables["ids"])
        if "query Variants" in query:
            return self._variant_nodes, 1 + len(variables["ids"])
        if "productVariantsBulkUpdate" in query:
            return self._bulk_prices, 10
        if "productUpdate" in query:
            return self._product_update, 10
        if "query Orders" in query:
            return self._orders, 2 + 2 * variables["first"]
        if "query FulfillmentOrders" in query:
            return self._fulfillment_orders, 5
        if "fulfillmentCreate" in query:
            return self._fulfil, 10
        raise ValueError(f"unsupported operation: {query[:80]}")

    def _set_quantities(self, query: str, variables: dict) -> dict:
        key = KEY.search(query)
        fingerprint = json.dumps(variables, sort_keys=True)
        if key is None:  # from 2026-04 the directive is required
            return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": [
                {"field": None, "message": "idempotency key required", "code": "IDEMPOTENCY_KEY_REQUIRED"}]}}
        if key.group(1) in self.keys:
            seen, answer = self.keys[key.group(1)]
            if seen != fingerprint:
                return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": [
                    {"field": None, "message": "same key, other parameters",
                     "code": "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}]}}
            return answer
        errors = []
        quantities = variables["input"]["quantities"]
        for index, q in enumerate(quantities):
            where = (q["inventoryItemId"], q["locationId"])
            field = ["input", "quantities", str(index)]
            if where not in self.levels:
                errors.append({"field": field + ["inventoryItemId"], "message": "The specified inventory item could "
                               "not be found.", "code": "INVALID_INVENTORY_ITEM"})
            elif "changeFromQuantity" not in q:
                errors.append({"field": field, "message": "changeFromQuantity is required",
                               "code": "CHANGE_FROM_QUANTITY_REQUIRED"})
            elif q["changeFromQuantity"] is not None and q["changeFromQuantity"] != self.levels[where]:
                errors.append({"field": field + ["changeFromQuantity"], "code": "CHANGE_FROM_QUANTITY_STALE",
                               "message": "The changeFromQuantity value does not match persisted value."})
        if errors:  # all or nothing
            self.stale_answers += any(e["code"] == "CHANGE_FROM_QUANTITY_STALE" for e in errors)
            answer = {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
        else:
            for q in quantities:
                self.levels[(q["inventoryItemId"], q["locationId"])] = q["quantity"]
            self.mutations += 1
            self.writes += len(quantities)
            answer = {"inventorySetQuantities": {"inventoryAdjustmentGroup": {
                "id": f"gid://shopify/InventoryAdjustmentGroup/{self.mutations}"}, "userErrors": []}}
        self.keys[key.group(1)] = (fingerprint, answer)
        return answer

    def _levels(self, query: str, variables: dict) -> dict:
        nodes = []
        for item in variables["ids"]:
            level = self.levels.get((item, variables["location"]))
            nodes.append(None if level is None else {"id": item, "inventoryLevel": {
                "quantities": [{"name": "available", "quantity": level}]}})
        return {"nodes": nodes}

    def _variant_nodes(self, query: str, variables: dict) -> dict:
        out = []
        for vid in variables["ids"]:
            v = self.variants.get(vid)
            out.append(None if v is None else {"id": vid, "price": v["price"],
                                               "product": {"id": v["product"], "status": self.products[v["product"]]}})
        return {"nodes": out}

    def _bulk_prices(self, query: str, variables: dict) -> dict:
        errors, updated = [], []
        for index, v in enumerate(variables["variants"]):
            variant = self.variants.get(v["id"])
            if variant is None or variant["product"] != variables["productId"]:
                errors.append({"field": ["variants", str(index), "id"], "message": "Product variant does not exist",
                               "code": "PRODUCT_VARIANT_DOES_NOT_EXIST"})
        if not errors:
            for v in variables["variants"]:
                self.variants[v["id"]]["price"] = v["price"]
                updated.append({"id": v["id"], "price": v["price"]})
        return {"productVariantsBulkUpdate": {"productVariants": updated or None, "userErrors": errors}}

    def _product_update(self, query: str, variables: dict) -> dict:
        product = variables["product"]
        self.products[product["id"]] = product["status"]
        return {"productUpdate": {"product": {"id": product["id"], "status": product["status"]}, "userErrors": []}}

    def _orders(self, query: str, variables: dict) -> dict:
        since = SINCE.search(variables.get("query") or "")
        orders = sorted(self.orders, key=lambda o: (o["updatedAt"], o["id"]))
        if since:
            orders = [o for o in orders if o["updatedAt"] >= since.group(1)]
        start = int(variables["after"]) if variables.get("after") else 0
        page = orders[start:start + variables["first"]]
        more = start + len(page) < len(orders)
        return {"orders": {"nodes": page, "pageInfo": {"hasNextPage": more,
                                                       "endCursor": str(start + len(page)) if page else None}}}

    def _fulfillment_orders(self, query: str, variables: dict) -> dict:
        return {"order": {"id": variables["id"],
                          "fulfillmentOrders": {"nodes": self.fulfillment_orders.get(variables["id"], [])}}}

    def _fulfil(self, query: str, variables: dict) -> dict:
        fulfillment = variables["fulfillment"]
        for line in fulfillment["lineItemsByFulfillmentOrder"]:
            for orders in self.fulfillment_orders.values():
                for fo in orders:
                    if fo["id"] == line["fulfillmentOrderId"]:
                        fo["status"] = "CLOSED"
        self.fulfillments.append(fulfillment)
        return {"fulfillmentCreate": {"fulfillment": {"id": f"gid://shopify/Fulfillment/{len(self.fulfillments)}",
                                                      "status": "SUCCESS"}, "userErrors": []}}
