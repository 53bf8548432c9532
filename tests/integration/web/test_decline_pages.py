"""The customer's decline page (no sign-in): the link of a changed-line message opens the order line and what
changed; "Refund this item instead" cancels what is still to come and refunds it (as the API does); a bad or
expired link, a second refund and a stale form are pages, in the order's language."""

from __future__ import annotations

import re
import time
from decimal import Decimal

from sqlalchemy import text

from omniretail.orders import decline
from omniretail.platform import i18n as fmt
from omniretail.platform.config import get_settings
from tests.integration.inventory.helpers import assert_invariants
from tests.integration.orders.helpers import API, associate, create_shop, level, order_body, outbox

from .conftest import HTML, csrf_from

SECRET = "test-secret-key-not-for-production"  # the test app's secret key (tests/conftest.py)
EN = {**HTML, "Accept-Language": "en"}


async def _rejected_pickup(client, session, *, locale: str = "en", settings: dict | None = None):
    """A paid pickup order at store A for SKU0 (100.00) and SKU2; SKU0 is damaged on the shelf and sent from the
    warehouse to store A (ship-to-store). Returns (shop, order, line id, the link's path and query)."""
    shop = await create_shop(session, stock={"warehouse": {"0": 5}, "store_a": {"0": 1, "2": 1}},
                             settings=settings)
    customer = {"name": "Anna Nowak", "email": "anna.decline@example.com", "locale": locale}
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 1), (2, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a},
        customer=customer))
    assert r.status_code == 201, r.text
    order = r.json()
    line_id = order["lines"][0]["id"]
    staff = await associate(session, shop.store_a)
    r = await client.post(f"{API}/fulfilment-orders/{order['fulfilment_orders'][0]['id']}/reject-lines",
                          headers=staff, json={"lines": [{"order_line_id": line_id, "quantity": 1,
                                                          "reason": "damaged"}]})
    assert r.status_code == 200, r.text
    [told] = await outbox(session, "orders.customer_message", template="line_rerouted", order_id=order["id"])
    link = told["data"]["decline_path"]
    assert link.startswith(f"/orders/{order['id']}/lines/{line_id}/decline?token=")  # the page, not the API
    # the link as a customer gets it: absolute, on the instance's address (the channel has none of its own)
    assert told["data"]["decline_url"] == get_settings().public_url + link
    return shop, order, line_id, link


def _no_staff_navigation(page) -> None:
    assert 'aria-label="Main"' not in page.text and "/logout" not in page.text and "/backoffice" not in page.text


async def test_a_forged_or_missing_token_is_a_friendly_403(client, session):
    _shop, order, line_id, link = await _rejected_pickup(client, session, locale="pl")
    path, token = link.split("?token=")
    forged = token[:-2] + ("00" if token[-2:] != "00" else "11")
    for url in (f"{path}?token={forged}", path, f"/orders/{order['id']}/lines/{line_id + 1}/decline?token={token}"):
        page = await client.get(url, headers=EN)
        assert page.status_code == 403, (url, page.text)
        assert "This link is not valid" in page.text and '<html lang="en">' in page.text  # not the order's
        assert "Refund this item instead" not in page.text
        _no_staff_navigation(page)
    posted = await client.post(path, data={"token": forged, "csrf_token": "x"}, headers=EN)
    assert posted.status_code == 403 and "This link is not valid" in posted.text


async def test_an_expired_link_is_410_in_the_orders_language(client, session):
    _shop, order, line_id, _link = await _rejected_pickup(client, session, locale="pl")
    old = decline.make_token(order["id"], line_id, secret_key=SECRET, now=time.time() - 40 * 86400)
    page = await client.get(f"/orders/{order['id']}/lines/{line_id}/decline?token={old}", headers=EN)
    assert page.status_code == 410
    assert '<html lang="pl">' in page.text and "Ten link wygasł" in page.text


async def test_the_page_shows_the_line_and_what_changed_and_keeping_it_changes_nothing(client, session):
    shop, order, line_id, link = await _rejected_pickup(client, session, settings={"shop_name": "Kaszub Outdoor"})
    page = await client.get(link, headers=EN)
    assert page.status_code == 200, page.text
    _no_staff_navigation(page)
    assert f"Your order {order['number']}" in page.text and "Kaszub Outdoor" in page.text
    assert shop.skus[0] in page.text and shop.skus[2] not in page.text  # only the changed line
    assert re.search(r"Quantity affected</dt>\s*<dd>1</dd>", page.text)
    assert "Sent to your pickup store, Store A, from another location first" in page.text
    token = link.split("?token=")[1]
    assert f'name="token" value="{token}"' in page.text and csrf_from(page)
    assert f'<form method="post" action="/orders/{order["id"]}/lines/{line_id}/decline">' in page.text
    keep = re.search(r'href="([^"]+/kept\?token=[^"]+)"', page.text).group(1)
    kept = await client.get(keep.replace("&amp;", "&"), headers=EN)
    assert kept.status_code == 200 and "Thank you" in kept.text and "Your order stays as changed" in kept.text
    assert await level(session, shop.skus[0], shop.warehouse) == (5, 1)  # still held for the customer
    refunds = (await session.execute(text("SELECT count(*) FROM refund WHERE order_id = :o"),
                                     {"o": order["id"]})).scalar_one()
    assert refunds == 0


async def test_a_backordered_line_shows_the_backorder(client, session):
    shop = await create_shop(session, stock={"store_a": {"0": 2}}, settings={"unfillable": "backorder"})
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(0, 2)], delivery={"method": "pickup", "pickup_location_id": shop.store_a},
        customer={"name": "Jan Kowalski", "email": "jan.decline@example.com", "locale": "en"}))
    order = r.json()
    line_id = order["lines"][0]["id"]
    staff = await associate(session, shop.store_a)
    await client.post(f"{API}/fulfilment-orders/{order['fulfilment_orders'][0]['id']}/reject-lines",
                      headers=staff, json={"lines": [{"order_line_id": line_id, "quantity": 2,
                                                      "reason": "not_found"}]})
    [told] = await outbox(session, "orders.customer_message", template="line_backordered", order_id=order["id"])
    page = await client.get(told["data"]["decline_path"], headers=EN)
    assert page.status_code == 200, page.text
    assert "On backorder" in page.text and re.search(r"Quantity affected</dt>\s*<dd>2</dd>", page.text)
    form = {"token": told["data"]["decline_token"], "csrf_token": csrf_from(page)}
    done = await client.post(f"/orders/{order['id']}/lines/{line_id}/decline", data=form, headers=EN)
    assert done.status_code == 200 and fmt.money(Decimal("200.00"), "PLN", "en") in done.text
    got = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert (got["lines"][0]["state"], got["state"]) == ("cancelled", "cancelled")


async def test_refunding_through_the_form_cancels_the_rerouted_unit_and_a_second_time_says_so(client, session):
    shop, order, line_id, link = await _rejected_pickup(client, session)
    path, token = link.split("?token=")
    page = await client.get(link, headers=EN)
    assert await level(session, shop.skus[0], shop.warehouse) == (5, 1)

    # without the form's CSRF field nothing happens: the choice again, with the reason
    stale = await client.post(path, data={"token": token, "csrf_token": "not-the-cookie"}, headers=EN)
    assert stale.status_code == 403 and 'role="alert"' in stale.text and "Refund this item instead" in stale.text
    assert await level(session, shop.skus[0], shop.warehouse) == (5, 1)

    done = await client.post(path, data={"token": token, "csrf_token": csrf_from(page)}, headers=EN)
    assert done.status_code == 200, done.text
    assert "This item will be refunded" in done.text
    assert f"We are refunding {fmt.money(Decimal('100.00'), 'PLN', 'en')} to the way you paid." in done.text
    assert re.search(r"Quantity cancelled</dt>\s*<dd>1</dd>", done.text)
    _no_staff_navigation(done)
    # as the service does: refund recorded, line cancelled, the warehouse's unit given back, transfer withdrawn
    refunds = (await session.execute(text("SELECT return_id, amount_minor FROM refund WHERE order_id = :o"),
                                     {"o": order["id"]})).all()
    assert [tuple(r) for r in refunds] == [(None, 10000)]
    assert await level(session, shop.skus[0], shop.warehouse) == (5, 0)
    transfers = (await session.execute(text("SELECT state FROM stock_transfer WHERE order_reference = :r"),
                                       {"r": f"order:{order['id']}"})).scalars().all()
    assert transfers == ["cancelled"]
    got = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()
    assert next(x for x in got["lines"] if x["id"] == line_id)["state"] == "cancelled"
    assert got["state"] == "in_fulfilment"  # the other line is still to be picked at store A
    timeline = [(e["kind"], e["actor"]) for e in got["timeline"]]
    assert ("line.declined", decline.ACTOR) in timeline

    # a second refund (the same form again) and the link opened again: already refunded, nothing more written
    again = await client.post(path, data={"token": token, "csrf_token": csrf_from(page)}, headers=EN)
    assert again.status_code == 409
    assert "Already refunded" in again.text and "Refunded: " + fmt.money(Decimal("100.00"), "PLN", "en") in again.text
    reopened = await client.get(link, headers=EN)
    assert reopened.status_code == 200 and "Already refunded" in reopened.text
    assert "Refund this item instead" not in reopened.text
    count = (await session.execute(text("SELECT count(*) FROM refund WHERE order_id = :o"),
                                   {"o": order["id"]})).scalar_one()
    assert count == 1
    await assert_invariants(session)


async def test_the_page_is_in_the_orders_language_not_the_browsers(client, session):
    _shop, order, _line_id, link = await _rejected_pickup(client, session, locale="pl")
    page = await client.get(link, headers=EN)
    assert page.status_code == 200
    assert '<html lang="pl">' in page.text
    assert f"Twoje zamówienie {order['number']}" in page.text
    assert "Zamiast tego zwróć pieniądze za ten produkt" in page.text and "Zachowaj zmienione zamówienie" in page.text
    done = await client.post(link.split("?")[0], data={"token": link.split("?token=")[1],
                                                       "csrf_token": csrf_from(page)}, headers=EN)
    assert done.status_code == 200 and '<html lang="pl">' in done.text
    assert f"Zwracamy {fmt.money(Decimal('100.00'), 'PLN', 'pl')}" in done.text
