"""The dashboard's "today" and its 14 days are days in the display time zone (Europe/Warsaw by default), not
UTC days: an order placed at 00:30 in Warsaw (23:30 UTC the day before) counts on the Warsaw day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import update

from omniretail.analytics import dashboard as figures
from omniretail.orders.models import Order
from omniretail.platform import clock
from tests.integration.orders.helpers import create_shop
from tests.integration.web.conftest import HTML, sign_in
from tests.integration.web.test_dashboard import OWNER, _chart_data, _place

NOW = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)  # 11:00 in Warsaw


async def _orders_at(client, session, moments: list[datetime]):
    shop = await create_shop(session)
    for at in moments:
        order = await _place(client, shop, [(0, 1)])
        await session.execute(update(Order).where(Order.id == order["id"]).values(placed_at=at))
    await session.commit()
    return shop


async def test_orders_fall_on_the_local_day_they_were_placed(client, session):
    shop = await _orders_at(client, session, [
        datetime(2026, 12, 5, 23, 30, tzinfo=UTC),  # 6 Dec 00:30 in Warsaw: today
        datetime(2026, 12, 5, 22, 30, tzinfo=UTC),  # 5 Dec 23:30 in Warsaw: yesterday
        datetime(2026, 11, 23, 0, 30, tzinfo=UTC),  # 23 Nov 01:30 in Warsaw: the series' first day
        datetime(2026, 11, 22, 22, 30, tzinfo=UTC),  # 22 Nov 23:30 in Warsaw: before the series
    ])
    board = await figures.dashboard(session, principal=OWNER, now=NOW, zone="Europe/Warsaw")
    assert board.today == date(2026, 12, 6)
    assert [r.orders for r in board.by_channel if r.channel_id == shop.channel_id] == [1]
    series = board.series_for("PLN", "orders")
    assert board.series_days[0] == date(2026, 11, 23) and board.series_days[-1] == date(2026, 12, 6)
    assert (series[0], series[-2], series[-1], sum(series)) == (1, 1, 1, 3)

    utc = await figures.dashboard(session, principal=OWNER, now=NOW, zone="UTC")
    assert [r.orders for r in utc.by_channel if r.channel_id == shop.channel_id] == []
    assert utc.series_for("PLN", "orders")[-2] == 2

    # 00:30 in Warsaw is already the next day there
    late = await figures.dashboard(session, principal=OWNER, now=datetime(2026, 12, 5, 23, 30, tzinfo=UTC),
                                   zone="Europe/Warsaw")
    assert late.today == date(2026, 12, 6)


async def test_the_page_names_today_and_the_days_in_the_readers_language(client, session):
    await _orders_at(client, session, [datetime(2026, 12, 5, 23, 30, tzinfo=UTC)])
    clock.freeze(NOW)
    try:
        await sign_in(client, session, role="analyst", locale="pl")
        page = await client.get("/backoffice", headers=HTML)
    finally:
        clock.freeze(None)
    assert page.status_code == 200, page.text
    assert "Dziś jest 6 gru 2026 (Europe/Warsaw)." in page.text and "(UTC)" not in page.text
    assert '<time datetime="2026-12-06">6 gru 2026</time>' in page.text
    data = _chart_data(page)
    assert data["days"][-1] == "6 gru 2026" and data["series"]["PLN"]["orders"][-1] == 1
