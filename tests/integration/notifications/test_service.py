"""orders.notify events through the worker to a real SMTP server (aiosmtpd) and the logging SMS provider:
sent once per (event, recipient, template), preferences, retries with back-off, parking, the in-process worker.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from omniretail.notifications import delivery, service, tasks
from omniretail.notifications.models import NotificationDelivery
from omniretail.notifications.samples import sample_data
from omniretail.notifications.schemas import TOPIC, NotificationPreferenceUpdate
from omniretail.notifications.senders import build_senders
from omniretail.platform import clock
from omniretail.platform.db import unit_of_work
from omniretail.platform.dispatcher import DispatchOptions
from omniretail.platform.jobs import Registry
from omniretail.platform.outbox import OutboxEvent, append_event
from omniretail.platform.worker import Worker

from .conftest import free_port

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANNA = "anna.nowak@example.com"


@pytest.fixture
def frozen():
    state = {"now": T0}
    clock.freeze(T0)

    def move(**delta) -> datetime:
        state["now"] = state["now"] + timedelta(**delta)
        clock.freeze(state["now"])
        return state["now"]

    yield move
    clock.freeze(None)


def notification_worker(db, settings) -> Worker:
    registry = Registry()
    registry.handles(TOPIC)(tasks.notify_customer)
    registry.every(30, "notifications.retry_deliveries")(tasks.retry_deliveries)
    return Worker(db, settings, registry=registry, run_scheduler=False, worker_id="notifier",
                  options=DispatchOptions(batch_size=20, max_attempts=3))


def payload(template: str = "ready_for_pickup", *, locale: str | None = "pl", currency: str = "PLN",
            order_id: int = 501, **customer) -> dict:
    data = sample_data(template, currency).model_dump(mode="json")
    data["customer"].update(customer)
    return {"template": template, "order_id": order_id, "locale": locale, "data": data}


async def emit(db, body: dict) -> int:
    async with unit_of_work(db) as session:
        await append_event(session, TOPIC, body)
        return await session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1))


async def deliveries(db, **where) -> list:
    table = NotificationDelivery.__table__
    stmt = select(table).order_by(table.c.id)
    for name, value in where.items():
        stmt = stmt.where(table.c[name] == value)
    async with unit_of_work(db, readonly=True) as session:
        return list((await session.execute(stmt)).all())


async def test_ready_for_pickup_email_reaches_the_smtp_server(db, mail_settings, mailbox, frozen):
    event_id = await emit(db, payload())
    assert await notification_worker(db, mail_settings).dispatcher.run_once() == 1

    [message] = mailbox.to(ANNA)
    [row] = await deliveries(db, event_id=event_id)
    assert message["Subject"] == "Zamówienie WEB-10023 czeka na odbiór"
    assert message["From"] == "Northwind <orders@northwind.example>"
    assert message["Message-ID"] == f"<notification-{row.id}@northwind.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Kod odbioru: 4F7K2Q" in text and "Puławska 12" in text and "pon.–pt.: 09:00–21:00" in text
    assert "4F7K2Q" in html and "Northwind Mokotów" in html
    assert (row.status, row.channel, row.recipient, row.locale, row.template) == (
        "sent", "email", ANNA, "pl", "ready_for_pickup")
    assert (row.provider, row.provider_id, row.attempts, row.error) == ("smtp", message["Message-ID"], 1, None)
    assert (row.order_ref, row.order_number, row.customer_id, row.sent_at) == ("501", "WEB-10023", 42, T0)
    async with unit_of_work(db, readonly=True) as session:
        assert (await session.get(OutboxEvent, event_id)).published_at == T0


async def test_a_redelivered_event_sends_once(db, mail_settings, mailbox, frozen):
    event_id = await emit(db, payload("shipped", locale="en"))
    worker = notification_worker(db, mail_settings)
    await worker.dispatcher.run_once()
    assert len(mailbox.messages) == 1
    # the event comes round again (an operator replays it, or a worker lost its lease after the consumer ran)
    async with unit_of_work(db) as session:
        await session.execute(update(OutboxEvent).where(OutboxEvent.id == event_id).values(published_at=None))
    assert await worker.dispatcher.run_once() == 1
    async with unit_of_work(db) as session:  # and straight through the consumer, twice more
        for _ in range(2):
            assert await service.queue_notification(session, event_id=event_id, payload=_validated(
                payload("shipped", locale="en"))) == []
    await delivery.retry_due_deliveries(db, tasks.senders_of(worker.context))
    assert len(mailbox.messages) == 1
    assert len(await deliveries(db, event_id=event_id)) == 1


def _validated(body):
    from omniretail.notifications.schemas import NotifyPayload

    return NotifyPayload.model_validate(body)


async def test_sms_preference_goes_through_the_sms_provider(db, mail_settings, mailbox, frozen, caplog):
    async with unit_of_work(db) as session:
        await service.set_preferences(session, 42, data=NotificationPreferenceUpdate(channels=["sms"], locale="tr"))
    caplog.set_level(logging.INFO, logger="omniretail.notifications")
    event_id = await emit(db, payload("ready_for_pickup", locale="pl"))  # the customer's choice wins
    await notification_worker(db, mail_settings).dispatcher.run_once()
    assert mailbox.messages == []
    [row] = await deliveries(db, event_id=event_id)
    assert (row.channel, row.recipient, row.status, row.locale, row.provider) == (
        "sms", "+48600100200", "sent", "tr", "log")
    assert row.provider_id == f"log-notification-{row.id}"
    assert "teslim almaya hazır" in row.body_text and "4F7K2Q" in row.body_text
    assert any("SMS to +48600100200" in r.getMessage() and "4F7K2Q" in r.getMessage() for r in caplog.records)


async def test_an_opt_out_is_logged_as_skipped_but_a_cancellation_is_always_told(db, mail_settings, mailbox, frozen):
    async with unit_of_work(db) as session:
        await service.set_preferences(session, 42, data=NotificationPreferenceUpdate(
            channels=["email"], opted_out=["shipped", "cancelled"]))
    shipped = await emit(db, payload("shipped", locale="sq"))
    cancelled = await emit(db, payload("cancelled", locale="sq"))
    await notification_worker(db, mail_settings).dispatcher.run_once()
    [skipped] = await deliveries(db, event_id=shipped)
    assert (skipped.status, skipped.error) == ("skipped", "the customer opted out of shipped messages")
    [told] = await deliveries(db, event_id=cancelled)
    assert told.status == "sent"
    [message] = mailbox.messages
    assert message["Subject"] == "Porosia WEB-10023 u anulua"
    assert "Arsyeja: The item is no longer available." in message.get_body(("plain",)).get_content()


async def test_an_smtp_outage_is_retried_with_backoff_then_sent(db, mail_settings, mailbox, frozen):
    down = mail_settings.model_copy(update={"smtp_port": free_port()})  # nothing listens there
    worker = notification_worker(db, down)
    event_id = await emit(db, payload("order_confirmed", locale="en"))
    await worker.dispatcher.run_once()
    [row] = await deliveries(db, event_id=event_id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "ConnectionRefusedError" in row.error
    assert T0 + timedelta(seconds=15) <= row.next_attempt_at <= T0 + timedelta(seconds=30)
    async with unit_of_work(db, readonly=True) as session:  # the event itself is done: the row owns the retry
        assert (await session.get(OutboxEvent, event_id)).published_at == T0

    await tasks.retry_deliveries(worker.context)
    assert (await deliveries(db, event_id=event_id))[0].attempts == 1  # not due yet

    frozen(seconds=31)
    worker.context.resources[tasks.SENDERS] = build_senders(mail_settings)  # the server is back
    await tasks.retry_deliveries(worker.context)
    [row] = await deliveries(db, event_id=event_id)
    assert (row.status, row.attempts, row.error) == ("sent", 2, None)
    assert mailbox.to(ANNA)[0]["Subject"] == "Order WEB-10023 confirmed"


async def test_a_message_that_keeps_failing_is_parked_with_its_error(db, mail_settings, frozen):
    down = mail_settings.model_copy(update={"smtp_port": free_port()})
    worker = notification_worker(db, down)
    event_id = await emit(db, payload("delayed"))
    await worker.dispatcher.run_once()
    for _ in range(delivery.MAX_SEND_ATTEMPTS - 1):
        frozen(hours=2)
        await tasks.retry_deliveries(worker.context)
    [row] = await deliveries(db, event_id=event_id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("parked", delivery.MAX_SEND_ATTEMPTS, None)
    assert "ConnectionRefusedError" in row.error
    frozen(days=2)
    await tasks.retry_deliveries(worker.context)
    assert (await deliveries(db, event_id=event_id))[0].attempts == delivery.MAX_SEND_ATTEMPTS


async def test_a_refused_recipient_is_parked_at_once(db, mail_settings, mailbox, frozen):
    mailbox.refuse.add("gone@example.com")
    event_id = await emit(db, payload("refunded", email="gone@example.com"))
    await notification_worker(db, mail_settings).dispatcher.run_once()
    [row] = await deliveries(db, event_id=event_id)
    assert (row.status, row.attempts) == ("parked", 1)
    assert "550" in row.error and "gone@example.com" in row.error


async def test_email_without_smtp_settings_fails_visibly(db, settings, frozen):
    event_id = await emit(db, payload("order_confirmed"))
    await notification_worker(db, settings).dispatcher.run_once()
    [row] = await deliveries(db, event_id=event_id)
    assert row.status == "failed" and "OMNIRETAIL_SMTP_HOST" in row.error


async def test_a_malformed_payload_is_parked_with_the_validation_error(db, mail_settings, mailbox, frozen):
    body = payload("shipped")
    del body["data"]["shipment"]
    event_id = await emit(db, body)
    await notification_worker(db, mail_settings).dispatcher.run_once()
    async with unit_of_work(db, readonly=True) as session:
        event = await session.get(OutboxEvent, event_id)
        assert event.parked_at == T0 and event.attempts == 1
        assert event.last_error.startswith("Undeliverable: orders.notify payload does not validate")
        assert "needs data.shipment" in event.last_error
    assert await deliveries(db, event_id=event_id) == [] and mailbox.messages == []


async def test_the_app_runs_the_worker_in_process_in_sqlite_mode(tmp_path, smtp_server):
    from asgi_lifespan import LifespanManager

    from omniretail.api.app import create_app
    from omniretail.platform.config import Settings
    from omniretail.platform.migrate import upgrade

    controller, mailbox = smtp_server
    url = f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}"
    upgrade(url)
    settings = Settings(database_url=url, secret_key="embedded-test-secret", var_dir=tmp_path,
                        inprocess_worker=True, worker_poll_s=0.05, smtp_host="127.0.0.1",
                        smtp_port=controller.port, smtp_starttls=False)
    app = create_app(settings)
    async with LifespanManager(app):
        assert app.state.worker is not None and app.state.db.is_sqlite
        await emit(app.state.db, payload("order_confirmed", locale="pl", order_id=9001))
        for _ in range(200):
            if mailbox.messages:
                break
            await asyncio.sleep(0.05)
        assert mailbox.messages[0]["Subject"] == "Potwierdzenie zamówienia WEB-10023"
    off = create_app(settings.model_copy(update={"inprocess_worker": False}))
    async with LifespanManager(off):
        assert off.state.worker is None
