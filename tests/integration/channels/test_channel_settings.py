"""Channel settings the product reads are checked when a channel is written (a 422 naming the key), kept as sent,
and a bad value already stored (written before the check, or straight into the database) makes order placement a
422 naming the setting — never a 500, never an order with a negative shipping charge."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from omniretail.channels.models import Channel
from omniretail.orders.models import Order
from tests.factories import bearer, create_user_with_token, problem, unique
from tests.integration.orders.helpers import API, create_shop, order_body

CHANNELS = f"{API}/channels"


def channel_payload(settings: dict, **overrides) -> dict:
    return {"code": unique("web"), "name": "Webshop", "kind": "webshop", "currency": "PLN", "locale": "pl",
            "settings": settings, **overrides}


async def owner(session) -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role="owner")
    return bearer(token)


async def stored_settings(session, channel_id: int) -> dict:
    return (await session.execute(select(Channel.settings).where(Channel.id == channel_id)
                                  .execution_options(populate_existing=True))).scalar_one()


BAD = [
    # (settings sent, error location under body.settings, words the message must hold)
    ({"routing_strategy": "nonsense"}, ["routing_strategy"], ["greedy", "optimal"]),
    ({"routing_strategy": None}, ["routing_strategy"], ["greedy", "optimal"]),
    ({"shipping_fee": "abc"}, ["shipping_fee"], ["decimal amount"]),
    ({"shipping_fee": "-5"}, ["shipping_fee"], ["negative"]),
    ({"shipping_fee": "1.999"}, ["shipping_fee"], ["2 decimal places"]),
    ({"shipping_fee": "NaN"}, ["shipping_fee"], ["decimal amount"]),
    ({"shipping_fee": True}, ["shipping_fee"], ["decimal amount"]),
    ({"unfillable": "bogus"}, ["unfillable"], ["backorder", "cancel_line", "reject"]),
    ({"allow_split": "false"}, ["allow_split"], ["boolean"]),
    ({"ship_to_store": 1}, ["ship_to_store"], ["boolean"]),
    ({"max_parcels": -1}, ["max_parcels"], ["0"]),
    ({"store_protection": "2"}, ["store_protection"], ["integer"]),
    ({"shipping_cost_model": {"per_km": -1}}, ["shipping_cost_model", "per_km"], ["0"]),
    ({"shipping_cost_model": {"zone_costs": {"europe": 30}}}, ["shipping_cost_model", "zone_costs", "europe",
                                                                "[key]"], ["domestic"]),
    ({"shipping_cost_model": {"zone_costs": {"DE": "cheap"}}}, ["shipping_cost_model", "zone_costs", "DE"],
     ["number"]),
    ({"pickup_expiry_days": 0}, ["pickup_expiry_days"], ["1"]),
    ({"pickup_promise_hours": "2h"}, ["pickup_promise_hours"], ["number"]),
    ({"transfer_days": 1.5}, ["transfer_days"], ["integer"]),
    ({"hold_unpaid": "yes"}, ["hold_unpaid"], ["boolean"]),
    ({"share_percent": 150}, ["share_percent"], ["100"]),
    ({"public_url": "shop.example.com"}, ["public_url"], ["http"]),
    ({"product_url_template": "https://shop.example/{slug}"}, ["product_url_template"], ["{sku}"]),
    ({"pickup_sla": "someday"}, ["pickup_sla"], ["next_day"]),
    ({"stores": {"WAW": {"pickup_method": "drone"}}}, ["stores", "WAW", "pickup_method"], ["reserve"]),
    ({"topics": "orders.tracking"}, ["topics"], ["list"]),
    ({"connector": "magento"}, ["connector"], ["allegro", "shopify", "webhook", "none"]),
    ({"rate_limits": {"requests": {"rate": 0}}}, ["rate_limits", "requests", "rate"], ["0"]),
    ({"drift_policy": "ignore"}, ["drift_policy"], ["correct", "report"]),
    ({"commands_in_flight": 0}, ["commands_in_flight"], ["1"]),
    ({"customer_messages": "no"}, ["customer_messages"], ["true, false or a list"]),
    ({"customer_messages": ["sms"]}, ["customer_messages"], ["unknown message kind(s) sms", "ready_for_pickup"]),
    ({"vat_by_country": {"de": {"0.23": "0.19"}}}, ["vat_by_country", "de", "[key]"], ["A-Z"]),
    ({"vat_by_country": {"DE": {"0.23": "19"}}}, ["vat_by_country", "DE", "0.23"], ["fraction"]),
    ({"vat_by_country": {"DE": {"23%": "0.19"}}}, ["vat_by_country", "DE", "23%", "[key]"], ["0.19"]),
]


@pytest.mark.parametrize(("sent", "where", "words"), BAD, ids=[
    f"{next(iter(s))}={next(iter(s.values()))!r}" for s, _w, _m in BAD])
async def test_a_bad_known_setting_is_a_422_naming_it_on_create_and_on_update(client, session, sent, where, words):
    headers = await owner(session)
    created = await client.post(CHANNELS, headers=headers, json=channel_payload(sent))
    assert created.status_code == 422, created.text
    body = problem(created)
    assert body["type"].endswith(":validation-failed")
    [error] = [e for e in body["errors"] if e["location"][:2] == ["body", "settings"]]
    assert error["location"] == ["body", "settings", *where]
    assert all(w in error["message"] for w in words), error

    good = await client.post(CHANNELS, headers=headers, json=channel_payload({"shipping_fee": "9.99"}))
    assert good.status_code == 201, good.text
    channel_id = good.json()["id"]
    patched = await client.patch(f"{CHANNELS}/{channel_id}", headers=headers, json={"settings": sent})
    assert patched.status_code == 422, patched.text
    [error] = problem(patched)["errors"]
    assert error["location"] == ["body", "settings", *where]
    assert await stored_settings(session, channel_id) == {"shipping_fee": "9.99"}


async def test_good_settings_are_accepted_and_stored_exactly_as_sent(client, session):
    headers = await owner(session)
    settings = {
        "routing_strategy": "optimal", "unfillable": "cancel_line", "shipping_fee": "14.90", "store_protection": 1,
        "shipping_cost_model": {"parcel_base": 10, "per_km": 0.05, "zone_costs": {"domestic": 9, "DE": 24.5, "*": 40}}, "allow_split": False,
        "max_parcels": None, "ship_to_store": True, "transfer_days": 2, "pickup_promise_hours": 1.5,
        "pickup_expiry_days": 7, "buffer": 1, "share_percent": "50", "cap": None, "hold_unpaid": False,
        "shop_name": "Kaszub Outdoor", "public_url": "https://shop.example.com",
        "product_url_template": "https://shop.example/p/{product_code}?variant={sku}",
        "pickup_sla": "seven_day", "stores": {"WAW": {"store_code": "W-1", "pickup_method": "reserve"}},
        "color_options": ["kolor"], "connector": "none", "rate_limits": {"requests": {"rate": 5, "burst": 10}},
        "drift_policy": "report", "topics": ["orders.tracking"],
        # keys the product does not read: a connector's or an integration's own, kept as sent
        "seller_id": "kaszub-42", "cursor": {"offers": "42"}, "nested": [1, "two", None],
    }
    created = await client.post(CHANNELS, headers=headers, json=channel_payload(settings))
    assert created.status_code == 201, created.text
    assert created.json()["settings"] == settings
    channel_id = created.json()["id"]
    assert await stored_settings(session, channel_id) == settings

    # a JSON number is read the same way as a string: it stays a number
    patched = await client.patch(f"{CHANNELS}/{channel_id}", headers=headers,
                                 json={"settings": {"shipping_fee": 9.99, "routing_strategy": "greedy"}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["settings"] == {"shipping_fee": 9.99, "routing_strategy": "greedy"}
    assert await stored_settings(session, channel_id) == {"shipping_fee": 9.99, "routing_strategy": "greedy"}
    # a change that leaves settings alone does not check them again
    renamed = await client.patch(f"{CHANNELS}/{channel_id}", headers=headers, json={"name": "Web"})
    assert renamed.status_code == 200 and renamed.json()["settings"]["shipping_fee"] == 9.99


async def test_the_shipping_fee_may_have_no_more_decimals_than_the_channels_currency(client, session):
    headers = await owner(session)
    yen = await client.post(CHANNELS, headers=headers,
                            json=channel_payload({"shipping_fee": "5.50"}, currency="JPY"))
    assert yen.status_code == 422, yen.text
    assert problem(yen)["field"] == "settings.shipping_fee"
    assert (await client.post(CHANNELS, headers=headers,
                              json=channel_payload({"shipping_fee": "550"}, currency="JPY"))).status_code == 201
    zloty = await client.post(CHANNELS, headers=headers, json=channel_payload({"shipping_fee": "9.99"}))
    channel_id = zloty.json()["id"]
    to_yen = await client.patch(f"{CHANNELS}/{channel_id}", headers=headers, json={"currency": "JPY"})
    assert to_yen.status_code == 422 and problem(to_yen)["field"] == "settings.shipping_fee"
    both = await client.patch(f"{CHANNELS}/{channel_id}", headers=headers,
                              json={"currency": "JPY", "settings": {"shipping_fee": "1000"}})
    assert both.status_code == 200, both.text


async def test_credentials_in_settings_are_still_refused(client, session):
    headers = await owner(session)
    response = await client.post(CHANNELS, headers=headers,
                                 json=channel_payload({"routing_strategy": "greedy", "api_key": "plain"}))
    assert response.status_code == 422
    [error] = problem(response)["errors"]
    assert error["location"] == ["body", "settings"] and "secrets" in error["message"]


async def _orders(session, channel_id: int) -> int:
    return (await session.execute(select(func.count()).select_from(Order).where(Order.channel_id == channel_id)
                                  )).scalar_one()


STORED = [
    # (stored settings, delivery, the setting named, allowed values)
    ({"routing_strategy": "nonsense"}, None, "routing_strategy", ["greedy", "optimal"]),
    ({"shipping_fee": "abc"}, None, "shipping_fee", None),
    ({"shipping_fee": "-5"}, None, "shipping_fee", None),
    ({"shipping_fee": {"amount": 5}}, None, "shipping_fee", None),
    ({"unfillable": "bogus"}, None, "unfillable", ["backorder", "cancel_line", "reject"]),
    ({"allow_split": "no"}, None, "allow_split", None),
    ({"max_parcels": "two"}, None, "max_parcels", None),
    ({"shipping_cost_model": {"per_km": "far"}}, None, "shipping_cost_model", None),
    ({"pickup_promise_hours": "soon"}, "pickup", "pickup_promise_hours", None),
    ({"ship_to_store": "off"}, "pickup", "ship_to_store", None),
]


@pytest.mark.parametrize(("stored", "delivery", "name", "allowed"), STORED, ids=[
    f"{next(iter(s))}={next(iter(s.values()))!r}" for s, *_rest in STORED])
async def test_a_bad_setting_stored_before_the_check_makes_placement_a_422_naming_it(client, session, stored,
                                                                                     delivery, name, allowed):
    shop = await create_shop(session, stock={"warehouse": {"0": 10}, "store_a": {"0": 1}})
    await session.execute(update(Channel).where(Channel.id == shop.channel_id).values(settings=stored))
    await session.commit()
    where = {"method": "pickup", "pickup_location_id": shop.store_a} if delivery == "pickup" else None
    # two units: a pickup at store A (one unit) needs the warehouse's too (ship-to-store)
    placed = await client.post(f"{API}/orders", headers=shop.auth,
                               json=order_body(shop, [(0, 2)], delivery=where))
    assert placed.status_code == 422, placed.text
    body = problem(placed)
    assert body["type"].endswith(":channel-setting-invalid")
    assert body["field"] == f"settings.{name}" and body["channel_id"] == shop.channel_id
    assert f"settings.{name}" in body["detail"] and f"/channels/{shop.channel_id}" in body["detail"]
    assert body.get("allowed") == allowed
    assert await _orders(session, shop.channel_id) == 0

    # corrected through the API, the same order goes through
    fixed = await client.patch(f"{CHANNELS}/{shop.channel_id}", headers=shop.auth,
                               json={"settings": {k: v for k, v in stored.items() if k != name}})
    assert fixed.status_code == 200, fixed.text
    again = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 2)], delivery=where))
    assert again.status_code == 201, again.text


async def test_a_good_stored_shipping_fee_is_charged(client, session):
    shop = await create_shop(session, settings={"shipping_fee": "14.90", "routing_strategy": "optimal",
                                                "unfillable": "reject"})
    placed = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(0, 1)]))
    assert placed.status_code == 201, placed.text
    assert placed.json()["shipping"] == "14.90"
    await session.execute(update(Channel).where(Channel.id == shop.channel_id).values(
        settings={"shipping_fee": 9.5}))  # a JSON number, as settings stored before the check may hold
    await session.commit()
    again = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, [(1, 1)]))
    assert again.status_code == 201, again.text
    assert again.json()["shipping"] == "9.50"
