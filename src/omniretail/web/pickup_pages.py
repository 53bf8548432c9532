"""The store app's pickup queue (``/store/pickups``) and one order's work page (``/store/pickups/{fo_id}``).

The queue is the store's open fulfilment orders by section (``orders.store_queue``): curbside customers
waiting outside, orders to pick, orders expiring soon, orders ready and waiting. It stays live without a
reload: ``/store/pickups/events`` is a server-sent event stream that polls the store's queue version
(``store_queue.queue_version``, one indexed aggregate) every second in its own short read transaction and
sends ``event: queue`` when it changes; ``static/store-queue.js`` then re-fetches ``/store/pickups/queue``
(the sections alone), highlights and announces new orders and beeps.

The work page's forms post to the fulfilment services (start picking, picked by scan, ready, hand over with the
pickup code, curbside check-in) and to the pick-exception service (``orders.pick_exceptions.reject_pick``).
Associates see their own store(s) only; managers choose a store. Every refusal is shown next to its field.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from babel.dates import format_timedelta
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from omniretail.api.deps import SessionDep
from omniretail.auth.models import User
from omniretail.auth.schemas import Principal
from omniretail.catalog.models import Product, ProductTranslation, Variant
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import LocationKind
from omniretail.orders import fulfilment, pick_exceptions, pick_scan, store_queue
from omniretail.orders.schemas import CheckIn
from omniretail.orders.states import IllegalTransition, allowed_fulfilment_moves
from omniretail.platform import clock, outbox
from omniretail.platform.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .error_text import describe
from .i18n import N_, request_locale
from .stock_forms import digits, t, whole_number

router = APIRouter(route_class=PageRoute, include_in_schema=False)

POLL_SECONDS = 1.0  # how often an open event stream looks at the queue version
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0  # a stream ends after this; the browser's EventSource reconnects by itself


async def pause(seconds: float, wake: asyncio.Event) -> None:
    """The wait between two polls: ``seconds``, or less when a commit in this process appended outbox events
    (a placement, a move, a check-in here: ``outbox.on_local_commit``). Tests replace it."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(wake.wait(), seconds)
    wake.clear()

SECTION_LABELS = {
    "curbside": N_("Curbside: customer is here"), "to_pick": N_("To pick"),
    "expiring": N_("Expiring soon"), "ready": N_("Ready, waiting for the customer"),
}
STATE_LABELS = {
    "new": N_("New"), "picking": N_("Picking"), "picked": N_("Picked"), "ready_for_pickup": N_("Ready for pickup"),
    "handed_over": N_("Handed over"), "shipped": N_("Shipped"), "delivered": N_("Delivered"),
    "cancelled": N_("Cancelled"), "awaiting_transfer": N_("Coming by transfer"),
}
METHOD_LABELS = {"pickup": N_("Pickup in store"), "curbside": N_("Curbside pickup"), "ship": N_("Ship from store"),
                 "pickup_point": N_("Pickup point"), "ship_to_store": N_("Send to a pickup store")}
DONE_MESSAGES = {
    "started": N_("Picking started."), "picked": N_("All lines were scanned: the order is picked."),
    "ready": N_("The order is ready; the customer was sent the pickup code."),
    "handed_over": N_("Handed over to the customer."), "checked_in": N_("The curbside arrival was recorded."),
    "rejected": N_("The lines that could not be picked were reported."),
}
REJECT_REASONS = {"not_found": N_("Not found on the shelf"), "damaged": N_("Damaged")}
ACTIONS = ("start", "picked", "ready", "hand-over", "check-in", "cannot-pick")
# action → (the state it moves the order to, its done message): a second tap finds the order there already
REPEATABLE = {"start": ("picking", "started"), "picked": ("picked", "picked"), "ready": ("ready_for_pickup", "ready"),
              "hand-over": ("handed_over", "handed_over")}


# --- which store ---------------------------------------------------------------------------------------------

async def _stores(session, principal: Principal) -> list:
    rows, _ = await locations_service.list_locations(session, principal=principal, kind=LocationKind.STORE,
                                                     limit=200, sort="name")
    return rows


async def chosen_store(session, principal: Principal, location_id: str | int | None):
    """The store the page is about: the one asked for (if the principal may see it), the principal's only
    store, or None when a manager has yet to choose."""
    if location_id not in (None, ""):
        if not digits(str(location_id)):
            raise NotFound("there is no such store")
        store = await locations_service.get_location(session, int(location_id), principal=principal)
        if store.kind != LocationKind.STORE:
            raise NotFound("there is no such store")
        return store
    stores = await _stores(session, principal)
    return stores[0] if len(stores) == 1 and principal.location_ids is not None else None


# --- the promise clock -------------------------------------------------------------------------------------

def promise_text(request: Request, minutes: int | None) -> str:
    if minutes is None:
        return ""
    span = format_timedelta(timedelta(minutes=abs(minutes)), threshold=1.1, locale=request_locale(request))
    if minutes < 0:
        return t(request, N_("late by %(time)s"), time=span)
    return t(request, N_("%(time)s left"), time=span)


def _queue_context(request: Request, queue: store_queue.StoreQueue) -> dict[str, Any]:
    return {"queue": queue, "section_labels": SECTION_LABELS, "state_labels": STATE_LABELS,
            "method_labels": METHOD_LABELS, "promise": lambda row: promise_text(request, row.minutes_left)}


# --- the queue ---------------------------------------------------------------------------------------------

@router.get("/store/pickups")
async def pickup_queue(request: Request, session: SessionDep, principal: StoreWorker,
                       location_id: str = "") -> Response:
    store = await chosen_store(session, principal, location_id)
    if store is None:
        return render(request, "store/choose_store.html", {
            "stores": await _stores(session, principal), "target": "/store/pickups",
            "heading": N_("Pickup queue")})
    queue = await store_queue.store_queue(session, store.id, now=clock.now())
    return render(request, "store/pickups.html", {"store": store, **_queue_context(request, queue)})


@router.get("/store/pickups/queue")
async def pickup_queue_fragment(request: Request, session: SessionDep, principal: StoreWorker,
                                location_id: int) -> Response:
    """The queue's sections alone, for the page's script to swap in."""
    store = await chosen_store(session, principal, location_id)
    queue = await store_queue.store_queue(session, store.id, now=clock.now())
    return render(request, "store/_pickup_sections.html", {"store": store, **_queue_context(request, queue)})


@router.get("/store/pickups/events")
async def pickup_events(request: Request, session: SessionDep, principal: StoreWorker,
                        location_id: int) -> StreamingResponse:
    """Server-sent events: ``event: queue`` with the queue's version, at once and whenever it changes."""
    store = await chosen_store(session, principal, location_id)
    return StreamingResponse(queue_events(request, store.id), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


async def queue_events(request: Request, location_id: int) -> AsyncIterator[str]:
    """Poll the queue version every ``POLL_SECONDS`` (at once after a local commit with outbox events — other
    processes' commits are seen at the next poll), each time in a short read transaction of its own."""
    db = request.app.state.db
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()
    unregister = outbox.on_local_commit(lambda: loop.call_soon_threadsafe(wake.set))
    started = last_sent = time.monotonic()
    sent_version = None
    try:
        yield f"retry: {int(POLL_SECONDS * 2000)}\n\n"
        while time.monotonic() - started < STREAM_SECONDS:
            if await request.is_disconnected():
                return
            async with db.read_sessionmaker() as session:
                version = await store_queue.queue_version(session, location_id)
                await session.rollback()
            now = time.monotonic()
            if version != sent_version:
                sent_version, last_sent = version, now
                yield f"event: queue\ndata: {json.dumps({'version': version})}\n\n"
            elif now - last_sent >= KEEPALIVE_SECONDS:
                last_sent = now
                yield ": keep-alive\n\n"
            await pause(POLL_SECONDS, wake)
    finally:
        unregister()


# --- one order -------------------------------------------------------------------------------------------

async def _person(session, actor: str | None) -> str | None:
    """Who an actor label (a user's e-mail, "… (token N)" for an API token) names: the user's name when they
    have one, else the label as recorded."""
    if not actor:
        return actor
    email = actor.split(" (token ", 1)[0]
    name = (await session.execute(select(User.full_name).where(User.email == email))).scalar()
    return name.strip() if name and name.strip() else actor


async def _product_names(session, skus, locale: str) -> dict[str, str]:
    """SKU → its product's title in ``locale`` where the catalog has it translated, else the product's own."""
    wanted = sorted({str(sku) for sku in skus if sku})
    if not wanted:
        return {}
    stmt = (select(Variant.sku, Product.title, ProductTranslation.title)
            .join(Product, Product.id == Variant.product_id)
            .outerjoin(ProductTranslation, (ProductTranslation.product_id == Product.id)
                       & (ProductTranslation.locale == locale))
            .where(Variant.sku.in_(wanted)))
    return {sku: (translated or "").strip() or title for sku, title, translated in (await session.execute(stmt)).all()}


async def _detail(request: Request, session, principal: Principal, fo_id: int, *, done: str = "",
                  errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    fo, order = await fulfilment.load(session, fo_id, principal=principal)
    store = await locations_service.get_location(session, fo["location_id"], principal=principal)
    now = clock.now()
    row = await store_queue.queue_row(session, fo_id, now=now)
    moves = {str(m) for m in allowed_fulfilment_moves(fo["state"], fo["delivery_method"])}
    contact = order["contact"] or {}
    return render(request, "store/pickup.html", {
        "store": store, "fo": dict(fo), "order": dict(order), "row": row, "contact": contact, "moves": moves,
        "picked_by": await _person(session, fo["assigned_to"]),
        "product_names": await _product_names(session, (ln["sku"] for ln in fo["lines"]), request_locale(request)),
        "can_check_in": fo["delivery_method"] == "curbside" and fo["state"] in store_queue.OPEN_STATES,
        "can_reject": fo["state"] in ("new", "picking"),
        "reject_open": any(k.startswith("reject") for k in (errors or {})), "done": DONE_MESSAGES.get(done, ""),
        "errors": errors or {}, "values": values or {}, "reasons": REJECT_REASONS, "focus": _focus(errors),
        **_queue_context(request, store_queue.StoreQueue(fo["location_id"], now, "")),
    }, status_code=status_code)


def _focus(errors: dict[str, str] | None) -> str | None:
    """The field the page puts the cursor in after a refusal: the first one in error (a scanner's next scan goes
    there); None: the first scan field, as on a fresh page."""
    for key in errors or {}:
        if key == "reject":
            return "reject-quantity-0"
        if key != "form":
            return key
    return None


@router.get("/store/pickups/{fo_id}")
async def pickup_detail(request: Request, session: SessionDep, principal: StoreWorker, fo_id: int,
                        done: str = "") -> Response:
    return await _detail(request, session, principal, fo_id, done=done)


@router.post("/store/pickups/{fo_id}/{action}", dependencies=[CsrfChecked])
async def pickup_action(request: Request, session: SessionDep, principal: StoreWorker, fo_id: int,
                        action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound("there is no such page")
    await fulfilment.load(session, fo_id, principal=principal)  # not found outside the associate's stores
    form = await request.form()
    values = {k: str(v) for k, v in form.multi_items() if k not in ("csrf_token", "scan")}
    values.update({f"scan-{i}": str(v) for i, v in enumerate(form.getlist("scan"))})
    errors: dict[str, str] = {}
    rows: list[int] = []  # the form rows of the lines reported as not pickable, in the order sent
    try:
        async with session.begin_nested():
            done = await _act(request, session, principal, fo_id, action, form, errors, rows)
    except PermissionDenied:
        raise
    except DomainError as exc:
        if isinstance(exc, IllegalTransition) and action in REPEATABLE and (
                exc.extensions.get("current_state") == REPEATABLE[action][0]):
            # a double tap (or a colleague a moment earlier): the order is where this tap wanted it
            return RedirectResponse(f"/store/pickups/{fo_id}?done={REPEATABLE[action][1]}", status_code=303)
        _place_error(request, exc, action, errors, rows)
        status = 409 if isinstance(exc, Conflict) else 400
        return await _detail(request, session, principal, fo_id, errors=errors, values=values, status_code=status)
    if errors:
        return await _detail(request, session, principal, fo_id, errors=errors, values=values, status_code=400)
    return RedirectResponse(f"/store/pickups/{fo_id}?done={done}", status_code=303)


async def _act(request: Request, session, principal: Principal, fo_id: int, action: str, form,
               errors: dict[str, str], rows: list[int]) -> str:
    who = {"principal": principal, "actor": principal.label}
    if action == "start":
        await fulfilment.start_picking(session, fo_id, **who)
        return "started"
    if action == "picked":
        await pick_scan.mark_picked_by_scan(session, fo_id, scans=[str(s) for s in form.getlist("scan")], **who)
        return "picked"
    if action == "ready":
        await fulfilment.mark_ready(session, fo_id, **who, secret_key=request.app.state.settings.resolved_secret_key())
        return "ready"
    if action == "hand-over":
        code = "".join(str(form.get("pickup_code", "")).split())  # read out as "252 217" it is still the code
        if not code:
            errors["pickup_code"] = t(request, N_("Enter the pickup code the customer shows you."))
            return ""
        await fulfilment.hand_over(session, fo_id, pickup_code=code, **who,
                                   secret_key=request.app.state.settings.resolved_secret_key())
        return "handed_over"
    if action == "check-in":
        typed = {name: " ".join(str(form.get(name, "")).split()) for name in ("bay", "car", "note")}
        for name, text in typed.items():  # refused next to the field, never cut short
            limit = next(m.max_length for m in CheckIn.model_fields[name].metadata if hasattr(m, "max_length"))
            if len(text) > limit:
                errors[name] = t(request, N_("At most %(limit)s characters."), limit=limit)
        if errors:
            return ""
        data = CheckIn(**typed)
        await fulfilment.check_in(session, fo_id, data=data, **who)
        return "checked_in"
    return await _reject(request, session, fo_id, form, errors, rows, who)


def _secret(request: Request) -> str:
    return request.app.state.settings.resolved_secret_key()


async def _reject(request: Request, session, fo_id: int, form, errors: dict[str, str], rows: list[int],
                  who) -> str:
    """The "cannot pick" form: per line a quantity (blank: none), a reason and a note."""
    line_ids = [str(x) for x in form.getlist("order_line_id")]
    wanted = []
    for i, line_id in enumerate(line_ids):
        raw = str(form.get(f"reject-quantity-{i}", "")).strip()
        if not raw:
            continue
        quantity = whole_number(raw)
        if not quantity or not digits(line_id):
            errors[f"reject-quantity-{i}"] = t(request, N_("Enter a whole number, 1 or more."))
            continue
        reason = str(form.get(f"reject-reason-{i}", ""))
        if reason not in REJECT_REASONS:
            errors[f"reject-reason-{i}"] = t(request, N_("Choose a reason from the list."))
            continue
        wanted.append((int(line_id), quantity, reason, str(form.get(f"reject-note-{i}", "")).strip()[:500]))
        rows.append(i)
    if not wanted and not errors:
        errors["reject"] = t(request, N_("Enter how many units of a line you cannot pick."))
    if errors:
        return ""
    await pick_exceptions.reject_pick(session, fo_id, lines=[
        pick_exceptions.PickRejection(line_id, quantity, reason, note) for line_id, quantity, reason, note in wanted],
        principal=who["principal"], actor=who["actor"], secret_key=_secret(request))
    return "rejected"


def _place_error(request: Request, exc: DomainError, action: str, errors: dict[str, str], rows: list[int]
                 ) -> None:
    """A refusal from the services, next to the field it concerns (or at the top of the page). ``rows``: the
    form row of each line sent to the pick-exception service."""
    ext = exc.extensions
    if isinstance(exc, pick_scan.ScanMismatch):
        for wrong in ext.get("mismatches", []):
            errors[f"scan-{wrong['index']}"] = t(request, N_("This is not %(sku)s. Scan the product on this line."),
                                                 sku=wrong["sku"])
    elif isinstance(exc, fulfilment.PickupCodeMismatch):
        errors["pickup_code"] = t(request, N_("This is not the order's pickup code."))
    elif isinstance(exc, IllegalTransition):
        state = STATE_LABELS.get(ext.get("current_state", ""), ext.get("current_state", ""))
        errors["form"] = t(request, N_("Someone else moved this order meanwhile: it is now “%(state)s”."),
                           state=t(request, state))
    elif action == "cannot-pick":
        parts = str(ext.get("field") or "").split(".")
        key = f"reject-{parts[2]}-{rows[int(parts[1])]}" if (
            len(parts) == 3 and digits(parts[1]) and int(parts[1]) < len(rows)
            and parts[2] in ("quantity", "reason")) else "reject"
        if key.startswith("reject-quantity-") and ext.get("on_fulfilment_order") is not None:
            errors[key] = t(request, N_("Enter a whole number from 1 to %(max)s."), max=ext["on_fulfilment_order"])
        elif isinstance(exc, pick_exceptions.NothingToReject):
            errors[key] = t(request, N_("This line is no longer to be picked here. Reload the page."))
        else:
            errors[key] = describe(request, exc)
    elif isinstance(exc, InvalidInput) and ext.get("field") in ("bay", "car", "note"):
        errors[str(ext["field"])] = describe(request, exc)
    else:
        errors["form"] = describe(request, exc)
