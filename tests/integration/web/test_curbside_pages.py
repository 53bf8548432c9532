"""Curbside pickup end to end: the "ready" message of a curbside order tells the customer to come to the curbside
bays and links to their "I'm here" page (signed, no sign-in); pressing it records the check-in exactly as
``POST /api/v1/fulfilment-orders/{id}/check-in`` does (the store's queue shows the customer), with the bay and
the car. The collect-by time the customer is told is the store's closing time, and the expiry job and the store's
queue use the same deadline. A bad, expired or used-up link and a stale form are pages in the order's language."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from omniretail.auth.schemas import Principal
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import LocationUpdate
from omniretail.notifications.schemas import TOPIC as NOTIFY_TOPIC
from omniretail.notifications.templates import LocaleFormat
from omniretail.orders import pickup_codes, pickup_deadline, service, store_queue, tasks
from omniretail.platform import clock
from tests.integration.notifications import conftest as mail
from tests.integration.orders.helpers import API, associate, create_shop, order_body, outbox, pickup_code
from tests.integration.orders.test_messages import _text, drain, message_worker

from .conftest import HTML, csrf_from

SECRET = "test-secret-key-not-for-production"  # the test app's secret key (tests/conftest.py)
EN = {**HTML, "Accept-Language": "en"}
WARSAW = ZoneInfo("Europe/Warsaw")
HOURS = {d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": [["10:00", "18:00"]],
                                                                                  "sun": []}
EWA = "ewa.curbside@example.com"

smtp_server, mailbox, mail_settings = mail.smtp_server, mail.mailbox, mail.mail_settings


async def _ready_curbside(client, session, db, settings, *, locale: str = "pl", method: str = "curbside"):
    """A curbside order at store B (Warsaw hours), ready; the messages composed and sent. Returns (shop, order,
    fulfilment order id, staff auth, the orders.notify payload of the ready message)."""
    shop = await create_shop(session, settings={"shop_name": "Northwind", "pickup_expiry_days": 2})
    await locations_service.update_location(session, shop.store_b, data=LocationUpdate(
        name="Northwind Kazimierz", street="Józefa 5", postal_code="31-056", city="Kraków", phone="+48 12 345 67 89",
        timezone="Europe/Warsaw", opening_hours=HOURS), principal=Principal.system("tests"))
    await session.commit()
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(1, 1)], delivery={"method": method, "pickup_location_id": shop.store_b},
        customer={"name": "Ewa Kowalska", "email": EWA, "locale": locale}))
    assert r.status_code == 201, r.text
    order = r.json()
    fo_id = order["fulfilment_orders"][0]["id"]
    staff = await associate(session, shop.store_b)
    for move in ("pick", "picked", "ready"):
        moved = await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=staff)
        assert moved.status_code == 200, moved.text
    await drain(message_worker(db, settings))
    ready = [p for p in await outbox(session, NOTIFY_TOPIC, order_id=order["id"])
             if p["template"] == "ready_for_pickup"][-1]
    return shop, order, fo_id, staff, ready


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _no_staff_navigation(page) -> None:
    assert 'aria-label="Main"' not in page.text and "/logout" not in page.text and "/backoffice" not in page.text


async def test_the_curbside_message_links_to_check_in_and_its_deadline_is_the_expiry_jobs(
        client, session, db, mail_settings, mailbox):
    shop, order, fo_id, staff, ready = await _ready_curbside(client, session, db, mail_settings)
    pickup = ready["data"]["pickup"]
    assert pickup["method"] == "curbside"
    link = pickup["check_in_url"]
    assert re.fullmatch(re.escape(mail_settings.public_url) + rf"/curbside/{fo_id}\?token=\d+\.[0-9a-f]+", link)
    # the deadline: the store's closing time two days after it was ready, in Warsaw — never before opening
    fo = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=staff)).json()
    deadline = pickup_deadline.collect_by(datetime.fromisoformat(fo["ready_at"]), days=2, opening_hours=HOURS,
                                          timezone="Europe/Warsaw")
    assert datetime.fromisoformat(pickup["ready_until"]) == deadline
    local = deadline.astimezone(WARSAW)
    assert (local.hour, local.minute) in ((21, 0), (18, 0)) and local.weekday() != 6
    [intent] = await outbox(session, "orders.customer_message", template="ready_for_pickup", order_id=order["id"])
    assert datetime.fromisoformat(intent["data"]["collect_by"]) == deadline
    # the e-mail, in Polish: the bays, the link, the closing time
    [_, sent] = mailbox.to(EWA)
    assert sent["Subject"] == f"Zamówienie {order['number']} czeka na odbiór przy sklepie"
    text = _text(sent)
    assert "miejsc do odbioru zamówień" in text and link in text and f"{local:%H:%M}" in text
    # what the store's queue shows and what the expiry job does: the same moment
    row = await store_queue.queue_row(session, fo_id, now=clock.now())
    assert row.collect_by == deadline
    assert (fo_id, 2) not in await tasks.uncollected(session, now=deadline - timedelta(seconds=1))
    assert (fo_id, 2) in await tasks.uncollected(session, now=deadline)


async def test_an_in_store_pickup_has_no_check_in_link(client, session, db, mail_settings, mailbox):
    _shop, order, _fo_id, _staff, ready = await _ready_curbside(client, session, db, mail_settings, method="pickup")
    assert ready["data"]["pickup"].get("method", "pickup") == "pickup"
    assert "check_in_url" not in ready["data"]["pickup"]
    [_, sent] = mailbox.to(EWA)
    assert sent["Subject"] == f"Zamówienie {order['number']} czeka na odbiór" and "/curbside/" not in _text(sent)


async def test_the_customer_says_im_here_and_the_store_sees_it(client, session, db, mail_settings, mailbox):
    _shop, order, fo_id, staff, ready = await _ready_curbside(client, session, db, mail_settings)
    path = _path(ready["data"]["pickup"]["check_in_url"])
    page = await client.get(path, headers=EN)  # the order's language wins over the browser's
    assert page.status_code == 200, page.text
    _no_staff_navigation(page)
    assert '<html lang="pl">' in page.text and f"Odbiór przy sklepie: zamówienie {order['number']}" in page.text
    assert "Northwind Kazimierz" in page.text and "Józefa 5" in page.text and "Jestem na miejscu" in page.text
    assert f'<form method="post" action="/curbside/{fo_id}"' in page.text
    deadline = datetime.fromisoformat(ready["data"]["pickup"]["ready_until"])
    assert LocaleFormat("pl", "PLN").until(deadline, "Europe/Warsaw") in page.text  # as the message says it
    token = path.split("?token=")[1]
    posted = await client.post(f"/curbside/{fo_id}", headers=EN, data={
        "token": token, "csrf_token": csrf_from(page), "bay": " 3 ", "car": "czerwona  Skoda"})
    assert posted.status_code == 303 and posted.headers["location"] == path
    again = await client.get(path, headers=EN)
    assert "Dziękujemy, sklep wie, że już jesteś." in again.text and "Miejsce parkingowe 3" in again.text
    assert "czerwona Skoda" in again.text and "Wyślij ponownie" in again.text
    # recorded as the API's check-in does: the fulfilment order, the store's alert, the timeline
    fo = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=staff)).json()
    assert fo["checked_in_at"] and fo["check_in"] == {"bay": "3", "car": "czerwona Skoda", "note": ""}
    [alert] = await outbox(session, "orders.store_alert", kind="curbside_arrival", fulfilment_order_id=fo_id)
    assert alert["bay"] == "3" and alert["order_id"] == order["id"]
    actors = (await session.execute(select(service.EVENTS.c.actor).where(
        service.EVENTS.c.order_id == order["id"], service.EVENTS.c.kind == "curbside.checked_in"))).scalars().all()
    assert actors == [pickup_codes.CHECK_IN_ACTOR]
    row = await store_queue.queue_row(session, fo_id, now=clock.now())
    assert store_queue.section_of(row, clock.now()) == "curbside"
    # a different bay: sent again
    moved = await client.post(f"/curbside/{fo_id}", headers=EN, data={
        "token": token, "csrf_token": csrf_from(again), "bay": "5", "car": ""})
    assert moved.status_code == 303
    fo = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=staff)).json()
    assert fo["check_in"]["bay"] == "5"
    # handed over: the page says so, and a late press changes nothing
    code = await pickup_code(session, order["id"])
    done = await client.post(f"{API}/fulfilment-orders/{fo_id}/hand-over", headers=staff, json={"pickup_code": code})
    assert done.status_code == 200, done.text
    collected = await client.get(path, headers=EN)
    assert collected.status_code == 200 and "Zamówienie zostało odebrane" in collected.text
    assert "Jestem na miejscu" not in collected.text
    late = await client.post(f"/curbside/{fo_id}", headers=EN, data={
        "token": token, "csrf_token": csrf_from(again), "bay": "7"})
    assert late.status_code == 409 and "Zamówienie zostało odebrane" in late.text
    fo = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=staff)).json()
    assert fo["state"] == "handed_over" and fo["check_in"]["bay"] == "5"


async def test_bad_expired_and_unknown_links_are_pages(client, session, db, mail_settings, mailbox):
    _shop, _order, fo_id, staff, ready = await _ready_curbside(client, session, db, mail_settings)
    path = _path(ready["data"]["pickup"]["check_in_url"])
    token = path.split("?token=")[1]
    forged = token[:-2] + ("00" if token[-2:] != "00" else "11")
    for url in (f"/curbside/{fo_id}?token={forged}", f"/curbside/{fo_id}", f"/curbside/{fo_id + 1}?token={token}"):
        page = await client.get(url, headers=EN)
        assert page.status_code == 403, (url, page.text)
        assert "This link is not valid" in page.text and '<html lang="en">' in page.text  # not the order's
        assert "I&#39;m here" not in page.text and "I'm here" not in page.text
        _no_staff_navigation(page)
    posted = await client.post(f"/curbside/{fo_id}", data={"token": forged, "csrf_token": "x", "bay": "1"},
                               headers=EN)
    assert posted.status_code == 403
    old = pickup_codes.check_in_token(fo_id, secret_key=SECRET, now=time.time() - 40 * 86400)
    expired = await client.get(f"/curbside/{fo_id}?token={old}", headers=EN)
    assert expired.status_code == 410 and '<html lang="pl">' in expired.text and "Ten link wygasł" in expired.text
    unknown = 10**9
    gone = await client.get(f"/curbside/{unknown}?token={pickup_codes.check_in_token(unknown, secret_key=SECRET)}",
                            headers=EN)
    assert gone.status_code == 404 and "Not found" in gone.text
    fo = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=staff)).json()
    assert fo["checked_in_at"] is None


async def test_a_stale_form_or_a_too_long_note_records_nothing(client, session, db, mail_settings, mailbox):
    _shop, _order, fo_id, staff, ready = await _ready_curbside(client, session, db, mail_settings, locale="tr")
    path = _path(ready["data"]["pickup"]["check_in_url"])
    token = path.split("?token=")[1]
    page = await client.get(path, headers=EN)
    assert '<html lang="tr">' in page.text and "Geldim" in page.text
    stale = await client.post(f"/curbside/{fo_id}", headers=EN, data={"token": token, "csrf_token": "x", "bay": "2"})
    assert stale.status_code == 403 and "Sayfa çok uzun süre açık kaldığı için" in stale.text
    assert 'value="2"' in stale.text  # what they typed is kept
    long = await client.post(f"/curbside/{fo_id}", headers=EN, data={
        "token": token, "csrf_token": csrf_from(page), "bay": "2", "car": "x" * 201})
    assert long.status_code == 422 and "en fazla 200 karakter" in long.text
    fo = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=staff)).json()
    assert fo["checked_in_at"] is None
