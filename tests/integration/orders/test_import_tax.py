"""A marketplace's own VAT rate on an imported line: a sale abroad is taxed at the buyer's country's rate."""

from __future__ import annotations

from decimal import Decimal

from tests.factories import problem
from tests.integration.orders.helpers import API, create_shop, integration, order_body


def _import(shop, external_id: str, **line):
    return {"channel_id": shop.channel_id, "external_id": external_id,
            "buyer": {"name": "Jonas Weber", "email": "jonas@example.de"},
            "delivery": {"method": "ship", "address": {"name": "Jonas", "street": "Hauptstr. 1",
                                                        "postal_code": "10115", "city": "Berlin", "country": "DE"}},
            "lines": [{"sku": shop.skus[0], "quantity": 2, "unit_price": "119.00", **line}],
            "shipping_amount": "0", "payment_status": "paid"}


async def test_an_imported_line_is_taxed_at_the_rate_the_channel_charged(client, session):
    shop = await create_shop(session, kind="marketplace_amazon")
    bot = await integration(session, shop.channel_id)
    abroad = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "DE-1", tax_rate="0.19"))
    assert abroad.status_code == 201, abroad.text
    order = abroad.json()["order"]
    [line] = order["lines"]
    assert line["tax_rate"] == "0.19"
    # 2 × 119.00 gross at 19 %: 38.00 of it is tax (238 − 238 / 1.19)
    assert (line["tax"], order["tax"], order["total"]) == ("38.00", "38.00", "238.00")

    home = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "DE-2"))
    assert home.status_code == 201, home.text
    [line] = home.json()["order"]["lines"]
    assert line["tax_rate"] == "0.23"  # none given: the product's own rate
    assert line["tax"] == "44.50"  # 238 − 238 / 1.23 = 44.50


async def test_a_tax_rate_that_is_no_fraction_is_refused_and_nothing_is_placed(client, session):
    shop = await create_shop(session, kind="marketplace_amazon")
    bot = await integration(session, shop.channel_id)
    for rate in ("19", "-0.01", "0.123456"):
        refused = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, f"BAD-{rate}",
                                                                                      tax_rate=rate))
        assert refused.status_code == 422, refused.text
        body = problem(refused)
        assert "tax_rate" in str(body), body
        missing = await client.get(f"{API}/channels/{shop.channel_id}/orders/by-external-id/BAD-{rate}",
                                   headers=bot)
        assert missing.status_code == 404


def _abroad(country: str, city: str) -> dict:
    return {"method": "ship", "address": {"name": "Jonas", "street": "Hauptstr. 1", "postal_code": "10115",
                                          "city": city, "country": country}}


async def test_an_order_shipped_abroad_is_taxed_at_the_destination_countrys_rate(client, session):
    shop = await create_shop(session, settings={"vat_by_country": {"DE": {"0.23": "0.19"}, "CZ": {"0.08": "0.12"}}})
    headers = shop.auth
    to_berlin = await client.post(f"{API}/orders", headers=headers,
                                  json=order_body(shop, [(0, 1)], delivery=_abroad("DE", "Berlin")))
    assert to_berlin.status_code == 201, to_berlin.text
    [line] = to_berlin.json()["lines"]
    assert line["tax_rate"] == "0.19"
    total = Decimal(line["total"])  # the gross price stays; the tax in it is Germany's
    assert Decimal(line["tax"]) == (total - total / Decimal("1.19")).quantize(Decimal("0.01"))

    to_prague = await client.post(f"{API}/orders", headers=headers,
                                  json=order_body(shop, [(0, 1)], delivery=_abroad("CZ", "Praha")))
    assert to_prague.json()["lines"][0]["tax_rate"] == "0.23"  # the table lists only CZ's reduced rate
    at_home = await client.post(f"{API}/orders", headers=headers, json=order_body(shop, [(0, 1)]))
    assert at_home.json()["lines"][0]["tax_rate"] == "0.23"

    bot = await integration(session, shop.channel_id)
    stated = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "DE-9", tax_rate="0.07"))
    assert stated.json()["order"]["lines"][0]["tax_rate"] == "0.07"  # the rate the channel charged wins
    unstated = await client.post(f"{API}/orders/import", headers=bot, json=_import(shop, "DE-10"))
    assert unstated.json()["order"]["lines"][0]["tax_rate"] == "0.19"
