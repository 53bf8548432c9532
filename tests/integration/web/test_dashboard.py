"""The dashboard: today's orders and revenue by channel (per currency), orders waiting by state, pickups about
to expire, low-stock alerts, the 14-day series, charts with their tables; who may open it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update

from omniretail.analytics import dashboard as figures
from omniretail.auth.schemas import Principal
from omniretail.orders import pickup_deadline
from omniretail.orders.models import FulfilmentOrder, Order
from omniretail.platform import clock
from tests.factories import create_location
from tests.integration.orders.helpers import API, create_shop, order_body
from tests.integration.web.conftest import HTML, sign_in

OWNER = Principal.build(user_id=None, email="system", role="owner")


async def _place(client, shop, lines, **kw):
    response = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(shop, lines, **kw))
    assert response.status_code == 201, response.text
    return response.json()


def _chart_data(page) -> dict:
    match = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page.text, re.DOTALL)
    assert match, "the page carries no chart data"
    return json.loads(match.group(1))


async def test_figures_group_money_by_currency_and_count_waiting_orders(client, session):
    shop = await create_shop(session)
    paid = await _place(client, shop, [(0, 1)])
    pending = await _place(client, shop, [(1, 2)], payment_status="pending")
    cancelled = await _place(client, shop, [(2, 1)])
    assert (await client.post(f"{API}/orders/{cancelled['id']}/cancel", headers=shop.auth,
                              json={"reason": "test"})).status_code == 200
    board = await figures.dashboard(session, principal=OWNER)
    mine = [r for r in board.by_channel if r.channel_id == shop.channel_id]
    assert [(r.currency, r.orders) for r in mine] == [("PLN", 3)]
    # the cancelled order is counted but brings no revenue
    assert mine[0].revenue_minor == round((Decimal(paid["total"]) + Decimal(pending["total"])) * 100)
    assert board.waiting["pending_payment"] >= 1 and board.waiting["confirmed"] >= 1
    assert "cancelled" not in board.waiting
    assert board.series_days[-1] == board.today and len(board.series_days) == 14
    assert board.series_for("PLN", "orders")[-1] >= 3


async def test_currencies_are_never_added_together(client, session):
    pln = await create_shop(session)
    eur = await create_shop(session)
    await _place(client, pln, [(0, 1)])
    order = await _place(client, eur, [(0, 1)])
    # the same shop sold in euros (a price list per currency is the pricing package's business)
    await session.execute(update(Order).where(Order.id == order["id"]).values(currency="EUR", total_minor=4321))
    await session.commit()
    board = await figures.dashboard(session, principal=OWNER)
    assert {"PLN", "EUR"} <= set(board.totals)
    rows = {(r.channel_id, r.currency): r for r in board.by_channel}
    assert rows[(eur.channel_id, "EUR")].revenue_minor == 4321
    assert (pln.channel_id, "PLN") in rows and (eur.channel_id, "PLN") not in rows
    assert board.totals["EUR"]["revenue_minor"] == sum(r.revenue_minor for r in board.by_channel
                                                       if r.currency == "EUR")
    await sign_in(client, session, role="owner")
    page = await client.get("/backoffice", headers=HTML)
    assert 'id="chart-today-EUR"' in page.text and 'id="chart-today-PLN"' in page.text
    assert "€43.21" in page.text


async def test_pickups_about_to_expire_are_listed(client, session):
    shop = await create_shop(session, settings={"pickup_expiry_days": 2})
    order = await _place(client, shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a},
                         payment_status="pay_on_pickup")
    fo_id = order["fulfilment_orders"][0]["id"]
    await session.execute(update(FulfilmentOrder).where(FulfilmentOrder.id == fo_id).values(
        state="ready_for_pickup", ready_at=clock.now() - timedelta(days=2, hours=1)))
    await session.commit()
    board = await figures.dashboard(session, principal=OWNER)
    expiring = [p for p in board.expiring if p.order_id == order["id"]]
    assert len(expiring) == 1 and expiring[0].location == "Store A"
    # the deadline the customer was told and the expiry job applies: the store's day, 2 days on
    hours, timezone = await pickup_deadline.location_clock(session, shop.store_a)
    assert expiring[0].expires_at == pickup_deadline.collect_by(expiring[0].ready_at, days=2, opening_hours=hours,
                                                                timezone=timezone)
    assert timedelta(days=2) <= expiring[0].expires_at - expiring[0].ready_at < timedelta(days=3)


async def test_dashboard_page_has_charts_tables_and_counts(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, [(0, 1)])
    await session.execute(update(Order).where(Order.id == order["id"]).values(
        placed_at=clock.now() - timedelta(days=3)))
    await _place(client, shop, [(1, 1)])
    await session.commit()
    await sign_in(client, session, role="analyst")
    page = await client.get("/backoffice", headers=HTML)
    assert page.status_code == 200, page.text
    text = page.text
    assert '<canvas id="chart-today-PLN"' in text and 'id="chart-waiting"' in text
    assert 'id="chart-series-PLN"' in text and 'src="/static/vendor/chart.umd.min.js"' in text
    assert 'role="img"' in text and "<caption>Orders and revenue today, by channel</caption>" in text
    assert "Low-stock alerts" in text and "Sync health" in text and "Pickups about to expire" in text
    data = _chart_data(page)
    assert "PLN" in data["currencies"] and len(data["days"]) == 14
    assert sum(data["series"]["PLN"]["orders"]) >= 2
    assert any(r["state"] == "confirmed" and r["label"] == "Confirmed" for r in data["waiting"])
    assert (await client.get("/static/vendor/chart.umd.min.js")).status_code == 200
    assert (await client.get("/static/charts.js")).status_code == 200


async def test_dashboard_in_polish_and_closed_to_associates(client, session):
    await sign_in(client, session, role="manager", locale="pl")
    page = await client.get("/backoffice", headers=HTML)
    assert page.status_code == 200 and '<html lang="pl">' in page.text
    assert "Zamówienia dzisiaj" in page.text
    client.cookies.clear()
    store = await create_location(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    assert (await client.get("/backoffice", headers=HTML)).status_code == 403


async def test_orders_late_at_stores_are_listed_per_store_with_links(client, session):
    shop = await create_shop(session, stock={"store_a": {"0": 5, "1": 5}, "store_b": {"2": 5}})
    pickup = {"method": "pickup", "pickup_location_id": shop.store_a}
    late = await _place(client, shop, [(0, 1)], delivery=pickup)
    ready = await _place(client, shop, [(1, 1)], delivery=pickup)
    on_time = await _place(client, shop, [(2, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_b})
    past = clock.now() - timedelta(minutes=45)
    for order in (late, ready):
        await session.execute(update(FulfilmentOrder).where(FulfilmentOrder.order_id == order["id"])
                              .values(promised_by=past))
    await session.execute(update(FulfilmentOrder).where(FulfilmentOrder.order_id == ready["id"])
                          .values(state="ready_for_pickup", ready_at=clock.now()))
    await session.commit()
    board = await figures.dashboard(session, principal=OWNER)
    [store] = [s for s in board.late if s.location_id in (shop.store_a, shop.store_b)]
    assert store.location_id == shop.store_a and store.location == "Store A"
    assert [(o.order_id, o.state, o.delivery_method) for o in store.orders] == [(late["id"], "new", "pickup")]
    assert 44 <= store.orders[0].minutes_late <= 46

    await sign_in(client, session, role="manager", locale="pl")
    page = await client.get("/backoffice", headers=HTML)
    assert page.status_code == 200, page.text
    section = page.text[page.text.index('id="late-heading"'):]
    section = section[:section.index("</section>")]
    assert "Opóźnione w sklepach" in section and "Store A (1)" in section
    assert f'<a href="/backoffice/orders/{late["id"]}">{late["number"]}</a>' in section
    assert "<td>Odbiór w sklepie</td>" in section and "<td>Nowe</td>" in section  # method and state, translated
    assert ready["number"] not in section and on_time["number"] not in section
