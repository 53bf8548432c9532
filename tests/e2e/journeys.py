"""What the journey tests (``test_journey``, ``test_pick_rejection_flow``) share: the JSON API with a bearer
token of the signed-in owner (httpx against the live server, as an integration would call it), associates,
prices, and the pickup code the customer was sent."""

from __future__ import annotations

import json
import sqlite3
import uuid
from pathlib import Path

import httpx

from . import seed
from .helpers import sign_in

API = "/api/v1"


class Api:
    """The JSON API as an integration calls it: ``Authorization: Bearer <token>``."""

    def __init__(self, base_url: str, token: str) -> None:
        self.client = httpx.Client(base_url=f"{base_url}{API}", timeout=30,
                                   headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})

    def __call__(self, method: str, path: str, body=None, *, expect: int | None = None):
        response = self.client.request(method, path, json=body)
        if expect is None:
            assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        else:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None

    def close(self) -> None:
        self.client.close()


def owner_api(page, base_url: str) -> Api:
    """Sign the owner in (``page``) and mint an API token for them through their session."""
    sign_in(page)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "omniretail_csrf")
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    me = page.request.get(f"{API}/users/me", headers=headers).json()
    created = page.request.post(f"{API}/users/{me['id']}/tokens", data={"name": f"e2e-{uuid.uuid4().hex[:6]}"},
                                headers=headers)
    assert created.ok, created.text()
    return Api(base_url, created.json()["token"])


def store_ids(api: Api) -> dict[str, int]:
    return {loc["code"]: loc["id"] for loc in api("GET", "/locations?limit=200")["items"]}


def webshop(api: Api) -> dict:
    return next(c for c in api("GET", "/channels?limit=200")["items"] if c["code"] == "webshop")


def price(api: Api, channel: dict, sku: str, amount: str) -> None:
    price_list = api("POST", "/price-lists", {"code": f"E2E-{uuid.uuid4().hex[:8]}", "name": f"Prices for {sku}",
                                              "channel_id": channel["id"], "currency": "PLN"})
    api("PUT", f"/price-lists/{price_list['id']}/prices/{sku}", {"amount": amount})


def new_associate(api: Api, store_id: int, name: str) -> str:
    email = f"{name}-{uuid.uuid4().hex[:6]}@e2e.example"
    api("POST", "/users", {"email": email, "full_name": f"E2E {name}", "role": "associate",
                           "password": seed.PASSWORD, "locale": "en", "location_ids": [store_id]})
    return email


def place_pickup(api: Api, channel: dict, store_id: int, sku: str, quantity: int, email: str) -> dict:
    return api("POST", "/orders", {
        "channel_id": channel["id"], "delivery": {"method": "pickup", "pickup_location_id": store_id},
        "lines": [{"sku": sku, "quantity": quantity}], "payment_status": "paid",
        "customer": {"name": "Ewa Kowalska", "email": email, "phone": "601 100 200"}})


def tablet(browser, base_url: str):
    """A new browser context (its own cookies): a store tablet."""
    return browser.new_page(base_url=base_url, viewport={"width": 1180, "height": 820}, locale="en-GB")


def pickup_code(tmp_path_factory, number: str) -> str:
    """The code the customer was sent (the store keeps only a hash), from the app's outbox."""
    codes = []
    for database in Path(tmp_path_factory.getbasetemp()).glob("e2e*/e2e.db"):
        with sqlite3.connect(database) as db:
            rows = db.execute("SELECT payload FROM outbox WHERE topic = 'orders.customer_message' "
                              "ORDER BY id").fetchall()
        codes += [p["data"]["pickup_code"] for p in (json.loads(r[0]) for r in rows)
                  if p.get("template") == "ready_for_pickup" and p.get("number") == number]
    assert codes, "no ready_for_pickup message"
    return codes[-1]
