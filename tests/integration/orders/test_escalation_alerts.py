"""A store order running late reaches people: the promise clock's ``late`` alert is emailed (through the
notifications delivery log and a real SMTP server, aiosmtpd) to the managers responsible for the store — not
to another store's — and to the back office; ``due_soon`` emails nobody; a redelivered alert sends nothing new;
an order that got ready before the alert was consumed is not reported."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from omniretail.auth import service as auth_service
from omniretail.auth.permissions import Role
from omniretail.auth.schemas import UserUpdate
from omniretail.notifications.models import NotificationDelivery
from omniretail.notifications.staff import STORE_ORDER_LATE, LateOrder, render_staff
from omniretail.orders import escalation_alerts, promise_tasks
from omniretail.orders.timeline import STORE_ALERT
from omniretail.platform import clock
from omniretail.platform.dispatcher import DispatchOptions
from omniretail.platform.jobs import Registry
from omniretail.platform.outbox import OutboxEvent
from omniretail.platform.worker import Worker
from tests.factories import create_user_with_token
from tests.integration.notifications import conftest as mail
from tests.integration.orders.helpers import API, create_shop, order_body
from tests.integration.orders.test_messages import drain

# the local SMTP server (aiosmtpd) and the settings that point the worker at it, from the notifications tests
smtp_server, mailbox, mail_settings = mail.smtp_server, mail.mailbox, mail.mail_settings

BACK_OFFICE = "backoffice@northwind.example"
HUB = "https://hub.example.com"
OUTBOX = OutboxEvent.__table__
DELIVERIES = NotificationDelivery.__table__


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def frozen():
    yield clock.freeze
    clock.freeze(None)


def alert_worker(db, settings) -> Worker:
    registry = Registry()
    registry.handles(STORE_ALERT)(escalation_alerts.alert_staff)
    return Worker(db, settings, registry=registry, run_scheduler=False, worker_id="alerts",
                  options=DispatchOptions(batch_size=20, max_attempts=3))


async def _staff(session, role: str, *locations: int, locale: str = "en", active: bool = True) -> str:
    email = f"{role}-{'-'.join(map(str, locations)) or 'all'}-{locale}-{active}@northwind.example".lower()
    user_id, _token = await create_user_with_token(session, role=role, location_ids=locations, email=email)
    if locale != "en" or not active:
        await auth_service.update_user(session, user_id, data=UserUpdate(locale=locale, is_active=active))
        await session.commit()
    return email


async def _pickup(client, shop, store, sku, name):
    r = await client.post(f"{API}/orders", headers=shop.auth, json=order_body(
        shop, [(sku, 1)], delivery={"method": "pickup", "pickup_location_id": store},
        customer={"name": name, "email": f"{name.split()[0].lower()}@example.com"}))
    assert r.status_code == 201, r.text
    return r.json()


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content().replace("\xa0", " ").replace("\u202f", " ")


async def test_a_late_order_emails_its_stores_managers_and_the_back_office_once(
        client, session, db, mail_settings, mailbox, frozen):
    frozen(at("2026-11-23T11:00:00+01:00"))  # Monday; the stores keep no hours: two calendar hours
    shop = await create_shop(session, stock={"store_a": {"0": 5, "1": 5}, "store_b": {"2": 5}})
    manager_a = await _staff(session, "manager", shop.store_a)
    manager_b = await _staff(session, "manager", shop.store_b)
    everywhere = await _staff(session, "manager", locale="pl")  # no location scope: every store
    gone = await _staff(session, "manager", shop.store_a, active=False)
    clerk = await _staff(session, "associate", shop.store_a)
    settings = mail_settings.model_copy(update={"backoffice_alert_email": BACK_OFFICE, "backoffice_url": HUB})
    worker = alert_worker(db, settings)

    late = await _pickup(client, shop, shop.store_a, 0, "Anna Nowak")
    ready_in_time = await _pickup(client, shop, shop.store_a, 1, "Jan Kowalski")
    at_b = await _pickup(client, shop, shop.store_b, 2, "Ola Lis")
    fo = late["fulfilment_orders"][0]
    assert at(fo["promised_by"]) == at("2026-11-23T13:00:00+01:00")

    # due soon: the stores' queues show it; nobody is emailed
    frozen(at("2026-11-23T12:31:00+01:00"))
    assert len(await promise_tasks.escalate_job(db)) == 3
    await drain(worker)
    assert mailbox.messages == []

    # late: the job announces it, the consumer emails the store's managers and the back office
    frozen(at("2026-11-23T13:01:00+01:00"))
    assert sorted(lvl for _fo, lvl in await promise_tasks.escalate_job(db)) == [2, 2, 2]
    # one of store A's orders got ready before the alert was consumed: no longer late, nobody is told
    ready_fo = ready_in_time["fulfilment_orders"][0]["id"]
    for move in ("pick", "picked", "ready"):
        r = await client.post(f"{API}/fulfilment-orders/{ready_fo}/{move}", headers=shop.auth)
        assert r.status_code == 200, r.text
    await drain(worker)

    [to_a] = mailbox.to(manager_a)
    assert to_a["Subject"] == f"Late at Store A: order {late['number']}"
    body = _plain(to_a)
    assert "Customer: Anna Nowak" in body and "Minutes late: 1" in body
    assert "Promised by: Monday, November 23, 2026, 1:00 PM" in body  # in the store's time zone
    assert f"{HUB}/backoffice/orders/{late['id']}" in body
    assert f'href="{HUB}/backoffice/orders/{late["id"]}"' in to_a.get_body(("html",)).get_content()
    assert sorted(m["Subject"] for m in mailbox.to(everywhere)) == sorted([  # every store's, in their language
        f"Opóźnienie w Store A: zamówienie {late['number']}", f"Opóźnienie w Store B: zamówienie {at_b['number']}"])
    # store B's manager hears of store B's order only; the back office of both
    [to_b] = mailbox.to(manager_b)
    assert to_b["Subject"] == f"Late at Store B: order {at_b['number']}" and "Ola Lis" in _plain(to_b)
    assert sorted(m["Subject"] for m in mailbox.to(BACK_OFFICE)) == sorted(
        [f"Late at Store A: order {late['number']}", f"Late at Store B: order {at_b['number']}"])
    assert mailbox.to(gone) == [] and mailbox.to(clerk) == []
    assert not any(ready_in_time["number"] in m["Subject"] for m in mailbox.messages)
    assert not any(m["To"].endswith("@example.com") for m in mailbox.messages)  # no customer is told

    # every message is in the delivery log, sent
    logged = (await session.execute(
        select(DELIVERIES.c.recipient, DELIVERIES.c.status, DELIVERIES.c.customer_id, DELIVERIES.c.locale)
        .where(DELIVERIES.c.template == "store_order_late", DELIVERIES.c.order_ref == str(late["id"]))
        .order_by(DELIVERIES.c.recipient))).all()
    assert [tuple(r) for r in logged] == sorted([(BACK_OFFICE, "sent", None, "en"), (manager_a, "sent", None, "en"),
                                                 (everywhere, "sent", None, "pl")])
    sent = len(mailbox.messages)

    # a redelivered alert (a worker died before marking it published) sends nothing new
    alerts = (await session.execute(select(OUTBOX.c.id, OUTBOX.c.payload).where(OUTBOX.c.topic == STORE_ALERT))).all()
    redo = [r.id for r in alerts if r.payload["kind"] == "late"]
    assert len(redo) == 3
    await session.execute(update(OUTBOX).where(OUTBOX.c.id.in_(redo))
                          .values(published_at=None, claimed_by=None, claimed_until=None))
    await session.commit()
    await drain(worker)
    assert len(mailbox.messages) == sent
    logged = (await session.execute(select(DELIVERIES.c.id).where(DELIVERIES.c.template == "store_order_late"))).all()
    assert len(logged) == 6  # store A's order: 3 recipients, store B's: 3
    # and the clock does not announce it again
    assert await promise_tasks.escalate_job(db) == []
    await drain(worker)
    assert len(mailbox.messages) == sent


async def test_without_a_back_office_address_the_owners_are_told(client, session, db, mail_settings, mailbox,
                                                                   frozen):
    frozen(at("2026-11-23T11:00:00+01:00"))
    shop = await create_shop(session, stock={"store_a": {"0": 5}})
    owner = await _staff(session, "owner")
    order = await _pickup(client, shop, shop.store_a, 0, "Anna Nowak")
    frozen(at("2026-11-23T14:30:00+01:00"))  # the worker was down: late at once, 90 minutes after the promise
    assert [lvl for _fo, lvl in await promise_tasks.escalate_job(db)] == [2]
    await drain(alert_worker(db, mail_settings))
    [message] = mailbox.to(owner)
    assert message["Subject"] == f"Late at Store A: order {order['number']}"
    body = _plain(message)
    assert "Minutes late: 90" in body
    assert f"Open the order: /backoffice/orders/{order['id']}" in body  # relative without backoffice_url
    roles = {u.email for u in await auth_service.staff_to_alert(session, None, roles=(Role.OWNER,))}
    assert {m["To"] for m in mailbox.messages} == roles  # every active owner (the shop's own too), no one else


def test_the_staff_message_renders_in_every_language():
    data = LateOrder(order_id=7, order_number="WEB-7", fulfilment_order_id=9, store="Store <A>",
                     timezone="Europe/Warsaw", customer_name="Anna Nowak", delivery_method="curbside",
                     promised_by=at("2026-11-23T13:00:00+01:00"), minutes_late=125, order_url=f"{HUB}/backoffice/orders/7")
    words = {"en": "curbside pickup", "pl": "odbiór przy sklepie", "tr": "mağaza önünde", "sq": "para dyqanit"}
    for locale, method in words.items():
        message = render_staff(STORE_ORDER_LATE, locale, data)
        assert message.locale == locale and "WEB-7" in message.subject and "Store <A>" in message.subject
        assert "Anna Nowak" in message.text and "125" in message.text and method in message.text
        assert f"{HUB}/backoffice/orders/7" in message.text
        shown = message.text.replace("\u202f", " ")
        assert "13:00" in shown or "1:00 PM" in shown or "1:00 m.d." in shown  # the store's time zone
        assert "Store &lt;A&gt;" in message.html and "Store <A>" not in message.html  # escaped in HTML
        assert "125" in message.sms and "\n" not in message.subject
