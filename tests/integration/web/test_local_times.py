"""Times on the pages are the store's local time, not UTC: a store's own pages (pickup, till, receipt, shift)
in its zone, plainly; back-office pages in the zone of the location they are about, or the instance's
(``timezone`` setting, Europe/Warsaw by default), named after each time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import update

from omniretail.locations.models import Location
from omniretail.platform import clock
from tests.integration.orders.helpers import API, create_shop, order_body
from tests.integration.pos.test_shifts import POS, _open, _sale, _till

from .conftest import HTML, csrf_from, sign_in

OPEN_MON_SAT = {day: [["09:00", "21:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat")} | {"sun": []}


async def _set_store(session, location_id: int, **values) -> None:
    await session.execute(update(Location).where(Location.id == location_id).values(**values))
    await session.commit()


async def test_a_pickup_shows_its_promise_and_collect_by_in_the_stores_time(client, session):
    shop = await create_shop(session)
    await _set_store(session, shop.store_a, timezone="Europe/Warsaw", opening_hours=OPEN_MON_SAT)
    clock.freeze(datetime(2026, 12, 7, 8, 30, tzinfo=UTC))  # Monday 09:30 in Warsaw
    try:
        body = order_body(shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a})
        placed = await client.post(f"{API}/orders", headers=shop.auth, json=body)
        assert placed.status_code == 201, placed.text
        order = placed.json()
        fo_id = order["fulfilment_orders"][0]["id"]
        promised = datetime.fromisoformat(order["fulfilment_orders"][0]["promised_by"])
        await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale="pl")

        url = f"/store/pickups/{fo_id}"
        page = await client.get(url, headers=HTML)
        assert page.status_code == 200, page.text
        local = promised.astimezone(UTC).replace(tzinfo=None)  # the promise, shown an hour later in winter
        shown = re.search(r'<time datetime="[^"]+">([^<]+)</time>', page.text).group(1)
        assert shown.endswith(f"{(local.hour + 1) % 24:02d}:{local.minute:02d}"), shown
        assert "CET" not in page.text  # a store's own page: plain local time

        token = csrf_from(page)
        assert (await client.post(f"{url}/start", data={"csrf_token": token}, headers=HTML)).status_code == 303
        picked = await client.post(f"{url}/picked", data={"csrf_token": token, "scan": shop.skus[0]}, headers=HTML)
        assert picked.status_code == 303, picked.text
        assert (await client.post(f"{url}/ready", data={"csrf_token": token}, headers=HTML)).status_code == 303

        # ready on Monday: five days later is Saturday, collected by the store's closing time, 21:00 in Warsaw
        ready = await client.get(url, headers=HTML)
        assert "12 gru 2026, 21:00" in ready.text, ready.text
        assert "12 gru 2026, 20:00" not in ready.text
        queue = await client.get("/store/pickups", headers=HTML)
        assert "12 gru 2026, 21:00" in queue.text

        # the back office's order page: the fulfilment order in its store's zone, named
        client.cookies.clear()
        await sign_in(client, session, role="manager", locale="pl")
        office = await client.get(f"/backoffice/orders/{order['id']}", headers=HTML)
        assert office.status_code == 200
        assert "7 gru 2026, 09:30 CET" in office.text  # placed and ready at 08:30 UTC
        assert "gru 2026, 08:30" not in office.text
    finally:
        clock.freeze(None)


async def test_a_receipt_and_the_till_show_the_stores_time_not_utc_nor_the_instances(client, session):
    shop, _pos = await _till(session)
    await _set_store(session, shop.store_a, timezone="Europe/Istanbul")  # UTC+3; the instance is Warsaw's
    clock.freeze(datetime(2026, 12, 7, 6, 45, 1, tzinfo=UTC))  # 09:45:01 in Istanbul
    try:
        shift = await _open(client, shop, shop.auth)
        sold = await client.post(f"{POS}/sales", headers=shop.auth,
                                 json=_sale(shop, [(0, 1)], tendered="100.00"))
        assert sold.status_code == 201, sold.text
        await sign_in(client, session, role="associate", location_ids=[shop.store_a])

        receipt = await client.get(f"/store/pos/receipts/{sold.json()['order_id']}", headers=HTML)
        assert receipt.status_code == 200, receipt.text
        assert "Dec 7, 2026, 9:45\u202fAM" in receipt.text
        assert "6:45" not in receipt.text and "7:45" not in receipt.text  # neither UTC nor Warsaw
        assert "UTC+03" not in receipt.text

        till = await client.get("/store/pos", headers=HTML)
        assert "Dec 7, 2026, 9:45\u202fAM" in till.text  # the shift open since
        report = await client.get(f"/store/pos/shifts/{shift['id']}", headers=HTML)
        assert report.status_code == 200 and "Dec 7, 2026, 9:45\u202fAM" in report.text

        # the back office's list of orders mixes stores: the instance's zone, named
        client.cookies.clear()
        await sign_in(client, session, role="manager")
        orders = await client.get("/backoffice/orders", headers=HTML)
        assert "Dec 7, 2026, 7:45\u202fAM CET" in orders.text
    finally:
        clock.freeze(None)
