"""Customer messages end to end: orders built through the API emit ``orders.customer_message`` intents; the
worker turns each into one full ``orders.notify`` event (``orders/messages.py``) and the notifications consumer
sends it to a real SMTP server (aiosmtpd). Redelivered intents write nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from omniretail.auth.schemas import Principal
from omniretail.catalog.models import ProductTranslation, Variant
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import LocationUpdate
from omniretail.notifications import tasks as notification_tasks
from omniretail.notifications.schemas import TOPIC as NOTIFY_TOPIC
from omniretail.orders import messages, pickup_deadline, tasks
from omniretail.orders.service import order_row
from omniretail.orders.timeline import NOTIFY as INTENT_TOPIC
from omniretail.orders.timeline import OrderRef, Timeline
from omniretail.platform import clock
from omniretail.platform.db import unit_of_work
from omniretail.platform.dispatcher import DispatchOptions
from omniretail.platform.jobs import Event, Registry
from omniretail.platform.outbox import OutboxEvent
from omniretail.platform.worker import Worker
from tests.integration.notifications import conftest as mail
from tests.integration.orders.helpers import (
    API,
    associate,
    create_shop,
    order_body,
    outbox,
    pickup_code,
    ship_to,
)

ANNA = "anna@example.com"
JOHN = "john@example.com"
POLISH_ANNA = {"name": "Anna Nowak", "email": ANNA, "phone": "501 234 567", "locale": "pl"}
ENGLISH_JOHN = {"name": "John Smith", "email": JOHN, "locale": "en"}
OUTBOX = OutboxEvent.__table__

# the local SMTP server (aiosmtpd) and the settings that point the worker at it, from the notifications tests
smtp_server, mailbox, mail_settings = mail.smtp_server, mail.mailbox, mail.mail_settings


def message_worker(db, settings) -> Worker:
    """The two consumers a customer message goes through, and nothing else."""
    registry = Registry()
    registry.handles(INTENT_TOPIC)(messages.compose_customer_message)
    registry.handles(NOTIFY_TOPIC)(notification_tasks.notify_customer)
    return Worker(db, settings, registry=registry, run_scheduler=False, worker_id="messages",
                  options=DispatchOptions(batch_size=20, max_attempts=3))


async def drain(worker: Worker) -> None:
    """Run the dispatcher until nothing is due (an intent's orders.notify is due in the next round)."""
    for _ in range(10):
        if await worker.dispatcher.run_once() == 0:
            return
    raise AssertionError("the outbox did not drain")


async def _place(client, shop, lines, **kw) -> dict:
    r = await client.post(f"{API}/orders", headers=kw.pop("headers", shop.auth), json=order_body(shop, lines, **kw))
    assert r.status_code == 201, r.text
    return r.json()


async def _act(client, auth, fo_id, move, json=None) -> dict:
    r = await client.post(f"{API}/fulfilment-orders/{fo_id}/{move}", headers=auth, json=json)
    assert r.status_code == 200, r.text
    return r.json()


async def _notified(session, order_id: int) -> list[dict]:
    return await outbox(session, NOTIFY_TOPIC, order_id=order_id)


def _text(message) -> str:
    """The plain-text body, with the no-break spaces of formatted amounts as plain ones."""
    return message.get_body(("plain",)).get_content().replace("\xa0", " ").replace("\u202f", " ")


async def _polish_store(session, shop) -> None:
    """Store A with a full address and hours; SKU0's product with a Polish title."""
    await locations_service.update_location(session, shop.store_a, data=LocationUpdate(
        name="Northwind Mokotów", street="Puławska 12", postal_code="02-512", city="Warszawa",
        phone="+48 22 123 45 67", timezone="Europe/Warsaw",
        opening_hours={d: [["09:00", "21:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
        | {"sat": [["10:00", "18:00"]], "sun": []}), principal=Principal.system("tests"))
    product_id = await session.scalar(select(Variant.product_id).where(Variant.sku == shop.skus[0]))
    session.add(ProductTranslation(product_id=product_id, locale="pl", title="Buty biegowe", description=""))
    await session.commit()


async def test_bopis_order_is_confirmed_then_ready_for_pickup_in_polish(client, session, db, mail_settings,
                                                                        mailbox):
    shop = await create_shop(session)
    await _polish_store(session, shop)
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 2)], delivery={"method": "pickup", "pickup_location_id": shop.store_a},
                         customer=POLISH_ANNA)
    await drain(worker)
    [confirmed] = mailbox.to(ANNA)
    assert confirmed["Subject"] == f"Potwierdzenie zamówienia {order['number']}"
    text = _text(confirmed)
    assert f"2 × Buty biegowe ({shop.skus[0]}): 200,00 zł" in text
    [payload] = await _notified(session, order["id"])
    data = payload["data"]
    assert (payload["template"], payload["locale"], data["order_number"], data["currency"]) == (
        "order_confirmed", "pl", order["number"], "PLN")
    assert data["customer"] == {"id": order["customer_id"], "name": "Anna Nowak", "email": ANNA,
                                "phone": "+48501234567"}
    assert data["lines"] == [{"sku": shop.skus[0], "name": "Buty biegowe", "quantity": 2, "unit_price": "100.00"}]
    assert data["totals"]["total"] == "200.00" and data["placed_at"]

    staff = await associate(session, shop.store_a)
    fo_id = order["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked", "ready"):
        await _act(client, staff, fo_id, move)
    await drain(worker)
    code = await pickup_code(session, order["id"])
    [_, ready] = mailbox.to(ANNA)
    assert ready["Subject"] == f"Zamówienie {order['number']} czeka na odbiór"
    text = _text(ready)
    assert f"Kod odbioru: {code}" in text and "Northwind Mokotów" in text
    assert "Puławska 12" in text and "02-512 Warszawa" in text and "pon.–pt.: 09:00–21:00" in text
    assert "Termin odbioru:" in text and "Buty biegowe" in text
    pickup = (await _notified(session, order["id"]))[-1]["data"]["pickup"]
    assert pickup["code"] == code and pickup["ready_until"] and pickup["store"]["timezone"] == "Europe/Warsaw"

    # collecting it is no message: the intent is consumed and nothing is written
    await _act(client, staff, fo_id, "hand-over", {"pickup_code": code})
    await drain(worker)
    assert len(mailbox.to(ANNA)) == 2
    assert [p["template"] for p in await _notified(session, order["id"])] == ["order_confirmed", "ready_for_pickup"]
    timeline = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["timeline"]
    assert [e["data"]["template"] for e in timeline if e["kind"] == "customer_message"] == [
        "order_confirmed", "ready_for_pickup"]


async def test_a_cancellation_tells_the_reason_in_the_customers_own_language(client, session, db, mail_settings,
                                                                              mailbox):
    shop = await create_shop(session)  # a Polish channel; John reads English
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 1), (1, 2)], delivery=ship_to(52.40, 16.92), customer=ENGLISH_JOHN)
    r = await client.post(f"{API}/orders/{order['id']}/cancel", headers=shop.auth,
                          json={"reason": "the customer called to cancel"})
    assert r.status_code == 200, r.text
    await drain(worker)
    confirmed, cancelled, refunded = mailbox.to(JOHN)  # paid: the cancellation, then the money back
    assert confirmed["Subject"] == f"Order {order['number']} confirmed"
    assert cancelled["Subject"] == f"Order {order['number']} has been cancelled"
    assert "139.98" in _text(refunded) or "139,98" in _text(refunded)
    text = _text(cancelled)
    assert "Reason: the customer called to cancel" in text
    assert f"2 × Product {shop.skus[1]} ({shop.skus[1]})" in text and "Total:" in text
    payload = next(p for p in await _notified(session, order["id"]) if p["template"] == "cancelled")
    assert payload["data"]["cancellation"] == {"reason": "the customer called to cancel"}
    assert payload["data"]["totals"]["total"] == "139.98"


async def test_a_shipment_sends_the_tracking_number(client, session, db, mail_settings, mailbox):
    shop = await create_shop(session)
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(1, 1)], delivery=ship_to(52.40, 16.92), customer=ENGLISH_JOHN)
    fo_id = order["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked"):
        await _act(client, shop.auth, fo_id, move)
    await _act(client, shop.auth, fo_id, "ship", {"carrier": "InPost", "tracking_number": "680012345678",
                                                  "tracking_url": "https://track.example.com/680012345678"})
    await _act(client, shop.auth, fo_id, "deliver")  # delivered: no message
    await drain(worker)
    assert [m["Subject"] for m in mailbox.to(JOHN)] == [f"Order {order['number']} confirmed",
                                                        f"Order {order['number']} has been shipped"]
    text = _text(mailbox.to(JOHN)[1])
    assert "Carrier: InPost" in text and "Tracking number: 680012345678" in text
    assert "Track your parcel: https://track.example.com/680012345678" in text
    shipped = (await _notified(session, order["id"]))[-1]
    assert shipped["template"] == "shipped" and shipped["data"]["shipment"] == {
        "carrier": "InPost", "tracking_number": "680012345678",
        "tracking_url": "https://track.example.com/680012345678", "partial": False, "rest_follows": False}


async def test_a_parcel_with_part_of_the_order_says_so_and_that_the_rest_follows(client, session, db,
                                                                                 mail_settings, mailbox):
    shop = await create_shop(session, stock={"warehouse": {"0": 5, "1": 5}})
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 1), (1, 2)], delivery=ship_to(52.40, 16.92),
                         customer={**POLISH_ANNA, "locale": "pl"})
    [fo] = order["fulfilment_orders"]
    first, second = (x["id"] for x in order["lines"])
    for move in ("pick", "picked"):
        await _act(client, shop.auth, fo["id"], move)
    await _act(client, shop.auth, fo["id"], "ship", {"carrier": "InPost", "tracking_number": "6800001", "order_line_ids": [first]})
    await drain(worker)
    await _act(client, shop.auth, fo["id"], "ship", {"carrier": "DPD", "tracking_number": "DPD002", "order_line_ids": [second]})
    await drain(worker)
    subjects = [m["Subject"] for m in mailbox.to(ANNA)]
    assert subjects[1:] == [f"Część zamówienia {order['number']} została wysłana"] * 2
    part, last = _text(mailbox.to(ANNA)[1]), _text(mailbox.to(ANNA)[2])
    assert "Część Twojego zamówienia" in part and "Damy Ci znać, gdy wyślemy resztę." in part
    assert "Część Twojego zamówienia" in last and "resztę" not in last  # nothing more to come
    sent = [n["data"]["shipment"] for n in await _notified(session, order["id"]) if n["template"] == "shipped"]
    assert [(x["carrier"], x["partial"], x["rest_follows"]) for x in sent] == [("InPost", True, True),
                                                                                ("DPD", True, False)]


async def test_a_redelivered_intent_sends_once(client, session, db, mail_settings, mailbox):
    shop = await create_shop(session)
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(1, 1)], customer=ENGLISH_JOHN)
    await drain(worker)
    assert len(mailbox.to(JOHN)) == 1
    intent_id = await session.scalar(select(OUTBOX.c.id).where(OUTBOX.c.topic == INTENT_TOPIC)
                                     .order_by(OUTBOX.c.id.desc()).limit(1))
    # an operator replays the intent, then the message event too: nothing is written or sent twice
    for topic in (INTENT_TOPIC, NOTIFY_TOPIC):
        async with unit_of_work(db) as s:
            await s.execute(update(OutboxEvent).where(OutboxEvent.topic == topic).values(published_at=None))
        await drain(worker)
    replayed = (await session.execute(select(OUTBOX.c.attempts, OUTBOX.c.published_at)
                                      .where(OUTBOX.c.topic.in_([INTENT_TOPIC, NOTIFY_TOPIC])))).all()
    assert len(replayed) == 2 and all(r.attempts == 2 and r.published_at is not None for r in replayed)
    async with unit_of_work(db) as s:  # and straight through the consumer, as a worker that lost its lease
        await messages.compose_customer_message(s, await _event(s, intent_id, worker))
    assert len(await _notified(session, order["id"])) == 1
    assert len(mailbox.to(JOHN)) == 1


async def _event(session, event_id: int, worker: Worker) -> Event:
    row = (await session.execute(select(OUTBOX).where(OUTBOX.c.id == event_id))).one()
    return Event(id=row.id, topic=row.topic, payload=row.payload, coalesce_key=row.coalesce_key,
                 created_at=row.created_at, attempts=row.attempts + 1, context=worker.context)


async def test_an_uncollected_pickup_is_told_once_why_it_was_cancelled(client, session, db, mail_settings,
                                                                       mailbox):
    shop = await create_shop(session, settings={"pickup_expiry_days": 3})
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 1)], delivery={"method": "pickup", "pickup_location_id": shop.store_a},
                         customer=ENGLISH_JOHN)
    fo_id = order["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked", "ready"):
        await _act(client, shop.auth, fo_id, move)
    ready_at = (await client.get(f"{API}/fulfilment-orders/{fo_id}", headers=shop.auth)).json()["ready_at"]
    # a store without opening hours: the end of its day, three days later
    deadline = pickup_deadline.collect_by(datetime.fromisoformat(ready_at), days=3, opening_hours={},
                                          timezone="Europe/Warsaw")
    clock.freeze(deadline + timedelta(minutes=1))
    try:
        assert await tasks.expire_uncollected_job(db) == 1
        await drain(worker)
    finally:
        clock.freeze(None)
    intents = [p["template"] for p in await outbox(session, INTENT_TOPIC, order_id=order["id"])]
    assert intents[-3:] == ["pickup_expired", "order_cancelled", "refunded"]  # paid: the money goes back
    assert [p["template"] for p in await _notified(session, order["id"])] == [
        "order_confirmed", "ready_for_pickup", "cancelled", "refunded"]
    subjects = [m["Subject"] for m in mailbox.to(JOHN)]
    assert subjects[-2] == f"Order {order['number']} has been cancelled" and len(subjects) == 4
    local = deadline.astimezone(ZoneInfo("Europe/Warsaw"))
    cancellation = (await _notified(session, order["id"]))[-2]["data"]["cancellation"]
    assert cancellation["reason"] == f"Not collected by {local:%Y-%m-%d} 23:59"
    assert datetime.fromisoformat(cancellation["not_collected_by"]) == deadline
    assert cancellation["timezone"] == "Europe/Warsaw"
    # worded in the message's language, the date alone (the end of the store's day)
    assert f"Reason: The order was not collected by {local:%A, %B} {local.day}, {local.year}." in _text(
        mailbox.to(JOHN)[-2])


async def test_lines_that_wait_are_a_delay_and_dropped_ones_a_removal_naming_the_product(
        client, session, db, mail_settings, mailbox):
    shop = await create_shop(session, settings={"unfillable": "cancel_line", "allow_split": False})
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(0, 20), (1, 1)], delivery=ship_to(52.40, 16.92), customer=ENGLISH_JOHN)
    await drain(worker)
    sent = await _notified(session, order["id"])
    assert [p["template"] for p in sent] == ["order_confirmed", "items_removed"]  # removed, not delayed
    sku = shop.skus[0]
    assert sent[1]["data"]["removal"] == {"lines": [{"sku": sku, "name": f"Product {sku}", "quantity": 20,
                                                     "reason": "removed"}], "refunded": False}
    assert "delay" not in sent[1]["data"]
    assert sent[0]["data"]["lines"] == [{"sku": shop.skus[1], "name": f"Product {shop.skus[1]}", "quantity": 1,
                                         "unit_price": "19.99"}]
    assert [m["Subject"] for m in mailbox.to(JOHN)] == [f"Order {order['number']} confirmed",
                                                        f"An item was removed from your order {order['number']}"]
    body = _text(mailbox.to(JOHN)[-1])
    assert f"20 × Product {sku} ({sku}) is not available and has been removed from your order." in body
    assert "You will not be charged for it." in body and "delayed" not in body and "longer" not in body

    waiting = await create_shop(session, settings={"unfillable": "backorder"})
    order = await _place(client, waiting, [(0, 15)], delivery=ship_to(52.40, 16.92), customer=POLISH_ANNA)
    await drain(worker)
    delayed = (await _notified(session, order["id"]))[-1]
    assert delayed["template"] == "delayed"
    [line] = delayed["data"]["delay"]["lines"]  # the units beyond the stock wait
    units = line.pop("quantity")
    assert line == {"sku": waiting.skus[0], "name": f"Product {waiting.skus[0]}", "reason": "backordered"}
    assert 0 < units <= 15
    assert "reason" not in delayed["data"]["delay"]  # no sentence in the payload: the template words it
    assert mailbox.to(ANNA)[-1]["Subject"] == f"Opóźnienie zamówienia {order['number']}"
    body = _text(mailbox.to(ANNA)[-1])
    assert f"{units} × Product {waiting.skus[0]} ({waiting.skus[0]}) – produkt chwilowo niedostępny" in body
    assert "backorder" not in body and "is on" not in body


async def test_a_refund_intent_and_an_unknown_one(client, session, db, mail_settings, mailbox):
    shop = await create_shop(session)
    worker = message_worker(db, mail_settings)
    order = await _place(client, shop, [(1, 1)], customer=ENGLISH_JOHN)
    async with unit_of_work(db) as s:  # as the returns flow emits them
        timeline = Timeline(actor="tests")
        ref = OrderRef.of(await order_row(s, order["id"]))
        timeline.notify(ref, "refunded", data={"amount": "19.99", "method": "card", "reason": "damaged in transit"})
        timeline.notify(ref, "refunded", data={"order_number": "ignored", "return_id": 1,
                                               "refund": {"amount": "5.00", "method": "store_credit"}})
        timeline.notify(ref, "refunded", data={"refund": {"amount": "7.50", "method": "voucher",
                                                          "reference": "V-TEST2345CODE"}})
        timeline.notify(ref, "gift_wrapped")
        await timeline.write(s)
    await drain(worker)
    confirmed, first, second, voucher = await _notified(session, order["id"])
    assert (confirmed["template"], first["template"], second["template"]) == ("order_confirmed", "refunded",
                                                                              "refunded")
    assert voucher["data"]["refund"]["reference"] == "V-TEST2345CODE"
    assert first["data"]["refund"] == {"amount": "19.99", "method": "card", "reason": "damaged in transit"}
    assert second["data"]["refund"] == {"amount": "5.00", "method": "store_credit"}
    assert second["data"]["order_number"] == order["number"]
    first_mail, second_mail, voucher_mail = mailbox.to(JOHN)[1:]
    assert "Your code: V-TEST2345CODE" in _text(voucher_mail)  # the customer needs it to spend the voucher
    assert first_mail["Subject"] == f"Refund for order {order['number']}"
    assert "We have refunded" in _text(first_mail) and "Reason: damaged in transit" in _text(first_mail)
    assert "Refund method: store credit" in _text(second_mail)
    [parked] = (await session.execute(select(OUTBOX).where(OUTBOX.c.topic == INTENT_TOPIC,
                                                            OUTBOX.c.parked_at.is_not(None)))).all()
    assert parked.payload["template"] == "gift_wrapped"
    assert parked.last_error.startswith("Undeliverable: orders.customer_message: unknown message template "
                                        "'gift_wrapped'")


def test_the_worker_runs_the_consumer():
    from omniretail import handlers

    assert messages.compose_customer_message in [c.fn for c in handlers.load().consumers_for(INTENT_TOPIC)]


async def test_a_channel_that_tells_its_buyers_itself_gets_only_the_messages_it_lists(client, session, db,
                                                                                       mail_settings, mailbox):
    worker = message_worker(db, mail_settings)
    silent = await create_shop(session, settings={"customer_messages": False})
    order = await _place(client, silent, [(1, 1)], delivery=ship_to(52.40, 16.92), customer=ENGLISH_JOHN)
    await drain(worker)
    assert mailbox.to(JOHN) == [] and await _notified(session, order["id"]) == []
    timeline = (await client.get(f"{API}/orders/{order['id']}", headers=silent.auth)).json()["timeline"]
    [skipped] = [e for e in timeline if e["kind"] == "customer_message.not_sent"]
    assert skipped["data"]["template"] == "order_confirmed"

    only_pickup = await create_shop(session, settings={"customer_messages": ["ready_for_pickup"]})
    pickup = {"method": "pickup", "pickup_location_id": only_pickup.store_a}
    order = await _place(client, only_pickup, [(0, 1)], delivery=pickup, customer=ENGLISH_JOHN)
    fo_id = order["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked", "ready"):
        await _act(client, only_pickup.auth, fo_id, move)
    await drain(worker)
    assert [n["template"] for n in await _notified(session, order["id"])] == ["ready_for_pickup"]
    assert [m["Subject"] for m in mailbox.to(JOHN)] == [f"Order {order['number']} is ready for pickup"]
