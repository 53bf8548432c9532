"""The store app's pickup queue: an associate sees their store's orders by section with a promise clock, works
one order through its forms (start, picked by scanning, ready, hand over with the code, curbside check-in),
sees refusals next to the field, never sees another store's queue, and the event stream announces a new
order after its placement commits."""

from __future__ import annotations

import asyncio
import json
import re

from omniretail.web import pickup_pages
from tests.integration.orders.helpers import API, create_shop, order_body, pickup_code

from .conftest import HTML, csrf_from, sign_in


async def _place(client, shop, method: str = "pickup", store=None, lines=((0, 1),)) -> dict:
    body = order_body(shop, list(lines), delivery={"method": method, "pickup_location_id": store or shop.store_a})
    response = await client.post(f"{API}/orders", headers=shop.auth, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _section(page: str, heading: str) -> str:
    """The HTML of the queue section whose heading starts with ``heading``."""
    match = re.search(r"<section[^>]*>\s*<h2[^>]*>" + re.escape(heading) + r".*?</section>", page, re.DOTALL)
    assert match, f"no section {heading!r}"
    return match.group(0)


async def test_the_queue_shows_the_store_orders_by_section_and_only_the_associates_store(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop)
    [fo] = order["fulfilment_orders"]
    elsewhere = await _place(client, shop, store=shop.store_b, lines=((1, 1),))
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])

    page = await client.get("/store/pickups", headers=HTML)  # one store: no need to choose
    assert page.status_code == 200, page.text
    to_pick = _section(page.text, "To pick")
    assert f'data-fo-id="{fo["id"]}"' in to_pick and order["number"] in to_pick and "Anna Nowak" in to_pick
    assert f"<code>{shop.skus[0]}</code> × 1" in to_pick and "Pickup in store" in to_pick
    assert re.search(r"\d+ (hours?|minutes?) left", to_pick), "the promise clock"
    assert elsewhere["number"] not in page.text
    assert 'src="/static/store-queue.js"' in page.text and 'aria-live="assertive"' in page.text
    assert f'data-events="/store/pickups/events?location_id={shop.store_a}"' in page.text

    fragment = await client.get("/store/pickups/queue", params={"location_id": shop.store_a}, headers=HTML)
    assert fragment.status_code == 200 and fragment.text.lstrip().startswith('<div class="queue-sections"')
    assert order["number"] in fragment.text and "<html" not in fragment.text

    for path in ("/store/pickups", "/store/pickups/queue", "/store/pickups/events"):
        other = await client.get(path, params={"location_id": shop.store_b}, headers=HTML)
        assert other.status_code == 404, path
    assert (await client.get(f"/store/pickups/{elsewhere['fulfilment_orders'][0]['id']}", headers=HTML)
            ).status_code == 404

    client.cookies.clear()
    await sign_in(client, session, role="manager")
    chooser = await client.get("/store/pickups", headers=HTML)
    assert chooser.status_code == 200 and f"/store/pickups?location_id={shop.store_b}" in chooser.text
    managed = await client.get("/store/pickups", params={"location_id": shop.store_b}, headers=HTML)
    assert elsewhere["number"] in managed.text and order["number"] not in managed.text


async def test_pick_by_scanning_ready_and_hand_over_with_the_code(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, lines=((0, 2),))
    fo_id = order["fulfilment_orders"][0]["id"]
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    url = f"/store/pickups/{fo_id}"
    page = await client.get(url, headers=HTML)
    assert page.status_code == 200 and "Start picking" in page.text and "Cannot pick a line" in page.text
    token = csrf_from(page)

    started = await client.post(f"{url}/start", data={"csrf_token": token}, headers=HTML)
    assert started.status_code == 303 and started.headers["location"] == f"{url}?done=started"
    again = await client.post(f"{url}/start", data={"csrf_token": token}, headers=HTML)
    assert (again.status_code, again.headers["location"]) == (303, f"{url}?done=started")  # a double tap

    wrong = await client.post(f"{url}/picked", data={"csrf_token": token, "scan": shop.skus[1]}, headers=HTML)
    assert wrong.status_code == 400 and 'id="f-scan-0-error"' in wrong.text
    assert f"This is not {shop.skus[0]}" in wrong.text and 'aria-invalid="true"' in wrong.text
    assert f'value="{shop.skus[1]}"' in wrong.text  # what was scanned stays in the field
    picked = await client.post(f"{url}/picked", data={"csrf_token": token, "scan": f" {shop.skus[0].lower()} "},
                               headers=HTML)
    assert picked.status_code == 303, picked.text

    ready = await client.post(f"{url}/ready", data={"csrf_token": token}, headers=HTML)
    assert ready.status_code == 303
    shown = await client.get(ready.headers["location"], headers=HTML)
    assert "the customer was sent the pickup code" in shown.text and 'id="f-pickup_code"' in shown.text
    queue = await client.get("/store/pickups", headers=HTML)
    assert order["number"] in _section(queue.text, "Ready, waiting for the customer")

    code = await pickup_code(session, order["id"])
    empty = await client.post(f"{url}/hand-over", data={"csrf_token": token, "pickup_code": ""}, headers=HTML)
    assert empty.status_code == 400 and 'id="f-pickup_code-error"' in empty.text
    bad = await client.post(f"{url}/hand-over", data={"csrf_token": token,
                                                      "pickup_code": "000000" if code != "000000" else "111111"},
                            headers=HTML)
    assert bad.status_code == 400 and "This is not the order&#39;s pickup code." in bad.text
    assert 'id="f-pickup_code-error"' in bad.text
    handed = await client.post(f"{url}/hand-over", data={"csrf_token": token, "pickup_code": code}, headers=HTML)
    assert handed.status_code == 303
    done = await client.get(handed.headers["location"], headers=HTML)
    assert "Handed over to the customer." in done.text and "Hand over</button>" not in done.text
    assert order["number"] not in (await client.get("/store/pickups", headers=HTML)).text
    state = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["state"]
    assert state == "completed"
    no_csrf = await client.post(f"{url}/start", data={}, headers=HTML)
    assert no_csrf.status_code == 403


async def test_curbside_check_in_is_shown_first_and_cannot_pick_checks_its_fields(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, method="curbside")
    fo_id = order["fulfilment_orders"][0]["id"]
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    url = f"/store/pickups/{fo_id}"
    token = csrf_from(await client.get(url, headers=HTML))
    checked = await client.post(f"{url}/check-in", data={"csrf_token": token, "bay": "3", "car": "red Skoda",
                                                         "note": ""}, headers=HTML)
    assert checked.status_code == 303
    page = await client.get(checked.headers["location"], headers=HTML)
    assert "The customer is waiting outside." in page.text and "Bay 3" in page.text
    queue = await client.get("/store/pickups", headers=HTML)
    curbside = _section(queue.text, "Curbside: customer is here")
    assert order["number"] in curbside and "red Skoda" in curbside
    assert queue.text.index("Curbside: customer is here") < queue.text.index("To pick")

    line_id = order["lines"][0]["id"]
    typo = await client.post(f"{url}/cannot-pick", headers=HTML, data={
        "csrf_token": token, "order_line_id": str(line_id), "reject-quantity-0": "x", "reject-reason-0": "damaged"})
    assert typo.status_code == 400 and 'id="f-reject-quantity-0-error"' in typo.text
    nothing = await client.post(f"{url}/cannot-pick", headers=HTML, data={
        "csrf_token": token, "order_line_id": str(line_id), "reject-quantity-0": ""})
    assert nothing.status_code == 400 and 'id="f-reject-error"' in nothing.text


async def _open_stream(app, path: str, cookies: dict[str, str]):
    """Run the app on one request and hand back its body chunks as they are sent (httpx's ASGI transport
    would wait for a stream that never ends)."""
    chunks: asyncio.Queue = asyncio.Queue()
    gone = asyncio.Event()
    started: list[int] = []
    sent_request = False

    async def receive():
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if message["type"] == "http.response.start":
            started.append(message["status"])
        elif message["type"] == "http.response.body" and message.get("body"):
            await chunks.put(message["body"].decode())

    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(),
             "query_string": query.encode(), "root_path": "", "server": ("testserver", 80),
             "client": ("127.0.0.1", 1234),
             "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream"),
                         (b"cookie", "; ".join(f"{k}={v}" for k, v in cookies.items()).encode())]}
    task = asyncio.create_task(app(scope, receive, send))
    return chunks, gone, task, started


async def _next_event(chunks: asyncio.Queue) -> dict:
    while True:
        chunk = await asyncio.wait_for(chunks.get(), timeout=10)
        if chunk.startswith("event: queue"):
            return json.loads(chunk.split("data: ", 1)[1])


async def test_the_event_stream_announces_a_new_order_after_its_placement(app, client, session, monkeypatch):
    shop = await create_shop(session)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    tick = asyncio.Event()

    async def next_poll(_seconds, _wake):  # the stream polls when the test says so, never while it uses the database
        await tick.wait()
        tick.clear()

    monkeypatch.setattr(pickup_pages, "pause", next_poll)
    chunks, gone, task, started = await _open_stream(
        app, f"/store/pickups/events?location_id={shop.store_a}", dict(client.cookies.items()))
    try:
        first = await _next_event(chunks)
        assert started == [200] and first["version"].startswith("0:")
        order = await _place(client, shop)
        tick.set()
        second = await _next_event(chunks)
        assert second["version"] != first["version"] and second["version"].startswith("1:")
        fragment = await client.get("/store/pickups/queue", params={"location_id": shop.store_a}, headers=HTML)
        assert f'data-version="{second["version"]}"' in fragment.text and order["number"] in fragment.text
    finally:
        gone.set()
        tick.set()
        await asyncio.wait_for(task, timeout=10)


async def test_cannot_pick_reports_the_missing_units_through_the_pick_exception_service(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop, lines=((0, 2),))  # store A holds 3 of SKU0
    fo_id = order["fulfilment_orders"][0]["id"]
    await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    url = f"/store/pickups/{fo_id}"
    token = csrf_from(await client.get(url, headers=HTML))
    line_id = str(order["lines"][0]["id"])
    too_many = await client.post(f"{url}/cannot-pick", headers=HTML, data={
        "csrf_token": token, "order_line_id": line_id, "reject-quantity-0": "5", "reject-reason-0": "not_found"})
    assert too_many.status_code == 400 and 'id="f-reject-quantity-0-error"' in too_many.text
    reported = await client.post(f"{url}/cannot-pick", headers=HTML, data={
        "csrf_token": token, "order_line_id": line_id, "reject-quantity-0": "1", "reject-reason-0": "not_found",
        "reject-note-0": "empty shelf"})
    assert reported.status_code == 303, reported.text
    page = await client.get(reported.headers["location"], headers=HTML)
    assert "The lines that could not be picked were reported." in page.text
    fos = (await client.get(f"{API}/orders/{order['id']}", headers=shop.auth)).json()["fulfilment_orders"]
    mine = next(f for f in fos if f["id"] == fo_id)
    assert [ln["quantity"] for ln in mine["lines"]] == [1]  # the missing unit left this store's pick …
    assert any(f["location_id"] == shop.warehouse and f["delivery_method"] == "ship_to_store" for f in fos)
    queue = await client.get("/store/pickups", headers=HTML)  # … and comes back to it by transfer
    assert "Coming by transfer" in _section(queue.text, "To pick")


async def test_the_queue_speaks_the_associates_language(client, session):
    shop = await create_shop(session)
    await _place(client, shop)
    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale="pl")
    page = await client.get("/store/pickups", headers=HTML)
    assert "<h1>Kolejka odbiorów</h1>" in page.text and "Do skompletowania" in page.text
    assert "Odbiór w sklepie" in page.text
    assert re.search(r"zostało \d+ (godzin|godziny|minut)", page.text), "the promise clock in Polish"
