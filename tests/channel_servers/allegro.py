"""A local Allegro for tests: the subset the connector uses, with Allegro's semantics.

From the OpenAPI (mattesilver/allegro-swagger ``allegro-openapi.yaml``) and developer.allegro.pl: batch change
commands under a client-chosen id (201 ``GeneralReport``; 409 "Command id was already used"), processed
asynchronously (tasks NEW until ``process_delay_s`` has passed, then SUCCESS / FAIL per offer), task reports
paged with limit/offset; offers read with ``GET /sale/offers/{id}`` and ``GET /sale/offers?limit&offset``; offer
events (``GET /sale/offer-events?from``); the order event journal (``GET /order/events?from&limit``) where
events can repeat and arrive out of order; checkout forms with ``updatedAt`` and an opaque ``revision``;
``PUT …/fulfillment?checkoutForm.revision`` answering 409 on an outdated revision; shipments. Requests need
``Authorization: Bearer <token>``. Rate limits answer 429 with ``Retry-After``.

OAuth (developer.allegro.pl/auth, token refresh): ``POST /auth/oauth/token`` with HTTP Basic
``client_id:client_secret`` and ``grant_type=refresh_token&refresh_token=…`` (query string or form) answers
``{access_token, token_type: "bearer", refresh_token, expires_in: 43199, scope, allegro_api, jti}``; the refresh
token rotates (a spent one answers ``400 {"error": "invalid_grant"}``); wrong client credentials ``401
{"error": "invalid_client"}``; an API call with an expired or revoked access token ``401 {"error":
"invalid_token"}``. ``token`` (the constructor's) stays valid forever for tests that do not exercise OAuth.
"""

from __future__ import annotations

import base64
import itertools
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .common import Behaviour, Bucket

MEDIA = "application/vnd.allegro.public.v1+json"
KINDS = {"offer-quantity-change-commands": "quantity", "offer-price-change-commands": "price",
         "offer-publication-commands": "publication"}


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class FakeAllegro:
    def __init__(self, *, token: str = "allegro-token", process_delay_s: float = 0.05,
                 requests_per_s: float = 10_000, offer_changes_per_s: float = 100_000, burst: float | None = None):
        self.token = token
        self.process_delay_s = process_delay_s
        self.behaviour = Behaviour()
        self.requests = Bucket(requests_per_s, burst or requests_per_s)
        # quantity and price changes have limits of their own (developer.allegro.pl/en/command: quantity 9,000
        # offers/min, price 9,000/min), apart from the client id's requests
        self.changes = {kind: Bucket(offer_changes_per_s, burst or offer_changes_per_s) for kind in ("quantity",
                                                                                                      "price")}
        self.offers: dict[str, dict] = {}
        self.commands: dict[tuple[str, str], dict] = {}
        self.order: list[dict] = []  # commands in the order they were registered
        self.history: dict[str, list] = {}  # offer id -> (command id, quantity) as applied
        self._next = 0  # the first not carried out yet
        self.fail_offers: set[str] = set()
        self.offer_events: list[dict] = []
        self.order_events: list[dict] = []
        self.forms: dict[str, dict] = {}
        self.fulfilment: dict[str, list[str]] = {}  # form id -> statuses set
        self.shipments: dict[str, list[dict]] = {}
        self.stale: dict[str, list[dict]] = {}  # form id -> older snapshots the next GETs return (replica lag)
        self.race_after_read: set[str] = set()  # form ids someone else changes right after our next read
        self._event_ids = itertools.count(1)
        self.puts = 0  # command PUTs that registered a command
        self.task_reads = 0  # GET …/tasks answered
        self.answered_429 = 0  # requests refused by the rate limits
        self.answered_409 = 0  # command PUTs with a used id
        self.client_id, self.client_secret = "allegro-client", "allegro-client-secret"
        self.access_tokens: dict[str, float] = {}  # issued access token -> expiry (epoch seconds)
        self.refresh_tokens: set[str] = set()  # refresh tokens not spent yet
        self.token_lifetime_s = 43199.0
        self.refreshes = 0  # successful refreshes
        self.app = Starlette(routes=[
            Route("/auth/oauth/token", self.token_endpoint, methods=["POST"]),
            Route("/sale/offers", self.list_offers, methods=["GET"]),
            Route("/sale/offers/{offer_id}", self.get_offer, methods=["GET"]),
            Route("/sale/offer-events", self.get_offer_events, methods=["GET"]),
            Route("/sale/{kind}/{command_id}", self.put_command, methods=["PUT"]),
            Route("/sale/{kind}/{command_id}", self.get_command, methods=["GET"]),
            Route("/sale/{kind}/{command_id}/tasks", self.get_tasks, methods=["GET"]),
            Route("/order/events", self.get_order_events, methods=["GET"]),
            Route("/order/event-stats", self.get_event_stats, methods=["GET"]),
            Route("/order/checkout-forms/{form_id}", self.get_form, methods=["GET"]),
            Route("/order/checkout-forms/{form_id}/fulfillment", self.put_fulfilment, methods=["PUT"]),
            Route("/order/checkout-forms/{form_id}/shipments", self.post_shipment, methods=["POST"]),
            Route("/_bench/state", self.state, methods=["GET"]),
        ])

    # --- test helpers ---------------------------------------------------------------------------------------

    def add_offer(self, offer_id: str, *, quantity: int = 0, price: str = "0.00", sku: str | None = None) -> None:
        self.offers[offer_id] = {"id": offer_id, "stock": {"available": quantity},
                                 "sellingMode": {"price": {"amount": price, "currency": "PLN"}},
                                 "publication": {"status": "ACTIVE"}, "external": {"id": sku}}

    def hand_edit(self, offer_id: str, *, quantity: int | None = None, price: str | None = None) -> None:
        """A seller changes the offer in Allegro's own panel."""
        if quantity is not None:
            self.offers[offer_id]["stock"]["available"] = quantity
            self._offer_event(offer_id, "OFFER_STOCK_CHANGED")
        if price is not None:
            self.offers[offer_id]["sellingMode"]["price"]["amount"] = price
            self._offer_event(offer_id, "OFFER_PRICE_CHANGED")

    def add_order_event(self, form: dict, event_type: str) -> str:
        """Store the checkout form (a new revision) and journal an event pointing at it."""
        form = {**form, "revision": uuid.uuid4().hex[:8]}
        form.setdefault("updatedAt", _now())
        self.forms[form["id"]] = form
        return self.journal(form["id"], event_type)

    def journal(self, form_id: str, event_type: str) -> str:
        event_id = str(next(self._event_ids) * 1000)
        self.order_events.append({"id": event_id, "type": event_type, "occurredAt": _now(),
                                  "order": {"checkoutForm": {"id": form_id}}})
        return event_id

    def issue_tokens(self, *, lifetime_s: float | None = None) -> dict:
        """A token pair as the authorization step would hand it to the seller's application."""
        access, refresh = f"at-{uuid.uuid4().hex}", f"rt-{uuid.uuid4().hex}"
        lifetime = self.token_lifetime_s if lifetime_s is None else lifetime_s
        self.access_tokens[access] = time.time() + lifetime
        self.refresh_tokens.add(refresh)
        return {"access_token": access, "token_type": "bearer", "refresh_token": refresh,
                "expires_in": int(lifetime), "scope": "allegro:api:sale:offers:write allegro:api:orders:read",
                "allegro_api": True, "jti": uuid.uuid4().hex}

    def revoke_access_tokens(self) -> None:
        """Every issued access token stops working (expired early, or revoked by the seller)."""
        self.access_tokens.clear()

    def _authorized(self, request: Request) -> bool:
        header = request.headers.get("authorization") or ""
        if header == f"Bearer {self.token}":
            return True
        token = header.removeprefix("Bearer ")
        return self.access_tokens.get(token, 0.0) > time.time()

    async def token_endpoint(self, request: Request) -> Response:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return JSONResponse({"error": "invalid_client", "error_description": "Bad client credentials"},
                                status_code=401)
        form = dict(await request.form())
        params = {**form, **dict(request.query_params)}
        if params.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        refresh = params.get("refresh_token")
        if refresh not in self.refresh_tokens:
            return JSONResponse({"error": "invalid_grant", "error_description": f"Invalid refresh token: {refresh}"},
                                status_code=400)
        self.refresh_tokens.discard(refresh)  # rotation: a refresh token is used once
        self.refreshes += 1
        return JSONResponse(self.issue_tokens())

    def quantity(self, offer_id: str) -> int:
        self._process_all()
        return self.offers[offer_id]["stock"]["available"]

    def price(self, offer_id: str) -> str:
        self._process_all()
        return self.offers[offer_id]["sellingMode"]["price"]["amount"]

    # --- plumbing -------------------------------------------------------------------------------------------

    async def _gate(self, request: Request, cost: float = 0.0, kind: str | None = None) -> Response | None:
        self._advance()
        self.behaviour.requests.append((request.method, request.url.path))
        await self.behaviour.delay()
        if not self._authorized(request):
            return JSONResponse({"error": "invalid_token", "error_description": "Access token expired"},
                                status_code=401)
        forced = self.behaviour.take_forced()
        wait = self.requests.take(1) or (self.changes[kind].take(cost) if cost and kind in self.changes else 0.0)
        if forced == 429 or wait > 0:
            self.answered_429 += 1
            retry = self.behaviour.retry_after_s if forced else max(1, round(wait + 0.5))
            return JSONResponse({"errors": [{"code": "TooManyRequests", "message": "Too many requests"}]},
                                status_code=429, headers={"Retry-After": str(retry)})
        if forced == 500:
            return JSONResponse({"errors": [{"message": "Internal error"}]}, status_code=503)
        return None

    def _offer_event(self, offer_id: str, event_type: str) -> None:
        self.offer_events.append({"id": str(next(self._event_ids)), "type": event_type, "occurredAt": _now(),
                                  "offer": {"id": offer_id}})

    def _advance(self) -> None:
        """Commands are carried out in the order they were registered, each once its delay has passed, whoever
        asks (like Allegro, which works through them on its own, polled or not)."""
        now = time.monotonic()
        while self._next < len(self.order) and now - self.order[self._next]["at"] >= self.process_delay_s:
            self._apply(self.order[self._next])
            self._next += 1

    def _apply(self, command: dict) -> None:
        if command["done"]:
            return
        for task in command["tasks"]:
            offer = self.offers.get(task["offer"]["id"])
            if offer is None or task["offer"]["id"] in self.fail_offers:
                task.update(status="FAIL", message="Offer not found or cannot be changed",
                            errors=[{"code": "NOT_FOUND", "message": "Offer cannot be changed"}])
                continue
            body = command["body"]
            if command["kind"] == "quantity":
                offer["stock"]["available"] = body["modification"]["value"]
                self.history.setdefault(offer["id"], []).append((command["id"][:8], body["modification"]["value"]))
                self._offer_event(offer["id"], "OFFER_STOCK_CHANGED")
            elif command["kind"] == "price":
                offer["sellingMode"]["price"] = dict(body["modification"]["price"])
                self._offer_event(offer["id"], "OFFER_PRICE_CHANGED")
            else:
                offer["publication"]["status"] = "ACTIVE" if body["publication"]["action"] == "ACTIVATE" else "ENDED"
            task.update(status="SUCCESS", finishedAt=_now())
        command["done"] = True

    def _process_all(self) -> None:
        self._advance()

    @staticmethod
    def _report(command: dict) -> dict:
        tasks = command["tasks"]
        return {"id": command["id"], "taskCount": {"total": len(tasks),
                                                   "success": sum(t["status"] == "SUCCESS" for t in tasks),
                                                   "failed": sum(t["status"] == "FAIL" for t in tasks)}}

    # --- endpoints ------------------------------------------------------------------------------------------

    async def state(self, request: Request) -> Response:
        """Not Allegro: what the offers show now, and how many offer changes were asked for (benchmark)."""
        self._process_all()
        changes = sum(len(c["tasks"]) for c in self.commands.values() if c["kind"] == "quantity")
        return JSONResponse({"quantities": {o: v["stock"]["available"] for o, v in self.offers.items()},
                             "history": self.history,
                             "writes": changes, "requests": len(self.behaviour.requests), "commands": self.puts,
                             "task_reads": self.task_reads, "answered_429": self.answered_429,
                             "answered_409": self.answered_409})

    async def put_command(self, request: Request) -> Response:
        body = await request.json()
        offers = [o["id"] for c in body.get("offerCriteria") or [] for o in c.get("offers") or []]
        kind = KINDS.get(request.path_params["kind"])
        refused = await self._gate(request, cost=len(offers), kind=kind)
        if refused is not None:
            return refused
        key = (request.path_params["kind"], request.path_params["command_id"])
        if kind is None:
            return JSONResponse({"errors": [{"message": "not found"}]}, status_code=404)
        if key in self.commands:
            self.answered_409 += 1
            return JSONResponse({"errors": [{"code": "CONFLICT", "message": "Command id was already used"}]},
                                status_code=409, media_type=MEDIA)
        if kind == "quantity" and (body.get("modification") or {}).get("value", -1) < 0:
            return JSONResponse({"errors": [{"message": "value must be >= 0"}]}, status_code=422)
        command = {"id": key[1], "kind": kind, "body": body, "at": time.monotonic(), "done": False,
                   "tasks": [{"offer": {"id": o}, "status": "NEW", "scheduledAt": _now()} for o in offers]}
        self.commands[key] = command
        self.order.append(command)
        self.puts += 1
        return JSONResponse(self._report(command), status_code=201, media_type=MEDIA)

    async def get_command(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        command = self.commands.get((request.path_params["kind"], request.path_params["command_id"]))
        if command is None:
            return JSONResponse({"errors": [{"message": "Command not found"}]}, status_code=404)
        self._advance()
        return JSONResponse(self._report(command), media_type=MEDIA)

    async def get_tasks(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        command = self.commands.get((request.path_params["kind"], request.path_params["command_id"]))
        if command is None:
            return JSONResponse({"errors": [{"message": "Command not found"}]}, status_code=404)
        self._advance()
        limit = int(request.query_params.get("limit", 100))  # "Defaults: limit = 100, offset = 0"
        if not 1 <= limit <= 1000:  # "limit … min. 1, max 1000" (developer.allegro.pl, jak-zarzadzac-ofertami)
            return JSONResponse({"errors": [{"code": "VALIDATION_ERROR", "message": "limit must be 1..1000"}]},
                                status_code=422, media_type=MEDIA)
        offset = int(request.query_params.get("offset", 0))
        self.task_reads += 1
        return JSONResponse({"tasks": command["tasks"][offset:offset + limit]}, media_type=MEDIA)

    async def list_offers(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        self._process_all()
        limit = min(int(request.query_params.get("limit", 20)), 1000)
        offset = int(request.query_params.get("offset", 0))
        offers = list(self.offers.values())
        return JSONResponse({"offers": offers[offset:offset + limit], "count": len(offers[offset:offset + limit]),
                             "totalCount": len(offers)}, media_type=MEDIA)

    async def get_offer(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        self._process_all()
        offer = self.offers.get(request.path_params["offer_id"])
        if offer is None:
            return JSONResponse({"errors": [{"message": "Offer not found"}]}, status_code=404)
        return JSONResponse(offer, media_type=MEDIA)

    @staticmethod
    def _after(events: list[dict], request: Request) -> list[dict]:
        start = request.query_params.get("from")
        limit = min(int(request.query_params.get("limit", 100)), 1000)
        if start is not None:
            ids = [e["id"] for e in events]
            events = events[ids.index(start) + 1:] if start in ids else events
        return events[:limit]

    async def get_offer_events(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        self._process_all()
        return JSONResponse({"offerEvents": self._after(self.offer_events, request)}, media_type=MEDIA)

    async def get_order_events(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        return JSONResponse({"events": self._after(self.order_events, request)}, media_type=MEDIA)

    async def get_event_stats(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        last = self.order_events[-1] if self.order_events else None
        return JSONResponse({"latestEvent": {"id": last["id"], "occurredAt": last["occurredAt"]} if last else None})

    async def get_form(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        form = self.forms.get(request.path_params["form_id"])
        if form is None:
            return JSONResponse({"errors": [{"message": "Not Found"}]}, status_code=404)
        if self.stale.get(form["id"]):
            return JSONResponse(self.stale[form["id"]].pop(0), media_type=MEDIA)
        answer = JSONResponse(dict(form), media_type=MEDIA)
        if form["id"] in self.race_after_read:
            self.race_after_read.discard(form["id"])
            form["revision"] = uuid.uuid4().hex[:8]
        return answer

    async def put_fulfilment(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        form = self.forms.get(request.path_params["form_id"])
        if form is None:
            return JSONResponse({"errors": [{"message": "Not Found"}]}, status_code=404)
        revision = request.query_params.get("checkoutForm.revision")
        if revision is not None and revision != form["revision"]:
            return JSONResponse({"errors": [{"code": "CONFLICT", "message": "Provided revision is outdated"}]},
                                status_code=409)
        status = (await request.json()).get("status")
        form.setdefault("fulfillment", {})["status"] = status
        form["revision"] = uuid.uuid4().hex[:8]
        self.fulfilment.setdefault(form["id"], []).append(status)
        return Response(status_code=204)

    async def post_shipment(self, request: Request) -> Response:
        refused = await self._gate(request)
        if refused is not None:
            return refused
        body = await request.json()
        if not body.get("carrierId") or not body.get("waybill") or not body.get("lineItems"):
            return JSONResponse({"errors": [{"message": "carrierId, waybill and lineItems are required"}]},
                                status_code=400)
        self.shipments.setdefault(request.path_params["form_id"], []).append(body)
        return JSONResponse({"id": uuid.uuid4().hex, "createdAt": _now()}, status_code=201)


def checkout_form(form_id: str, *, offer_id: str, quantity: int = 1, price: str = "10.00", status: str = "BOUGHT",
                  city: str = "Poznań", updated_at: datetime | None = None, sku: str | None = None) -> dict:
    """A checkout form as ``GET /order/checkout-forms/{id}`` returns it (the fields the connector reads)."""
    amount = str(Decimal(price) * quantity)
    return {
        "id": form_id, "status": status, "updatedAt": (updated_at or datetime.now(UTC)).isoformat(),
        "buyer": {"id": "b1", "login": "buyer1", "email": "buyer@example.com", "firstName": "Jan",
                  "lastName": "Kowalski", "phoneNumber": "500600700"},
        "payment": {"type": "ONLINE"},
        "delivery": {"address": {"firstName": "Jan", "lastName": "Kowalski", "street": "Długa 1", "city": city,
                                 "zipCode": "60-001", "countryCode": "PL"}, "cost": {"amount": "0.00"}},
        "lineItems": [{"id": f"{form_id}-li1", "offer": {"id": offer_id, "external": {"id": sku}},
                       "quantity": quantity, "price": {"amount": price, "currency": "PLN"},
                       "boughtAt": datetime.now(UTC).isoformat()}],
        "summary": {"totalToPay": {"amount": amount, "currency": "PLN"}},
    }
