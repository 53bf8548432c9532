"""Transfer pages, in the back office and in the store app (``/store/{location_id}/transfers``): list,
request, detail, and the ship / receive / cancel forms. Each form posts with the CSRF token and calls the
inventory service; a refusal re-renders the page with the message next to the field it concerns.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.inventory import service as inventory_service
from omniretail.inventory.schemas import TransferState
from omniretail.platform.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .i18n import N_, location_zones, use_zone
from .stock_forms import (
    BACKOFFICE,
    DONE_MESSAGES,
    STATE_LABELS,
    Area,
    InventoryReader,
    InventoryWriter,
    digits,
    error_message,
    field_of,
    filtered_list,
    form_token,
    location_choices,
    parse_lines,
    quantity_lines,
    remember_form,
    replay_or_refusal,
    store_area,
    t,
    transfer_choices,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TRANSFER_STATES = {s.value: STATE_LABELS[s.value] for s in TransferState}
PAGE_SIZE = 50


# --- list --------------------------------------------------------------------------------------------------

@router.get("/backoffice/transfers")
async def transfers_list(request: Request, session: SessionDep, principal: InventoryReader, state: str = "",
                         location_id: str = "", cursor: str | None = None) -> Response:
    return await _list(request, session, principal, BACKOFFICE, state=state, location_id=location_id,
                       cursor=cursor)


@router.get("/store/{store_id}/transfers")
async def store_transfers(request: Request, session: SessionDep, principal: StoreWorker, store_id: int,
                          state: str = "", cursor: str | None = None) -> Response:
    area = await store_area(session, principal, store_id)
    return await _list(request, session, principal, area, state=state, location_id=str(store_id), cursor=cursor)


async def _list(request: Request, session, principal: Principal, area: Area, *, state: str, location_id: str,
                cursor: str | None) -> Response:
    return await filtered_list(request, session, principal, area, state=state, location_id=location_id,
                               cursor=cursor, states=TRANSFER_STATES, lister=inventory_service.list_transfers,
                               template="stock/transfers.html", rows_key="transfers", page_size=PAGE_SIZE)


# --- request a transfer ------------------------------------------------------------------------------------

@router.get("/backoffice/transfers/new")
async def new_transfer_form(request: Request, session: SessionDep, principal: InventoryWriter) -> Response:
    return await _new_form(request, session, principal, BACKOFFICE, {})


@router.get("/store/{store_id}/transfers/new")
async def store_new_transfer_form(request: Request, session: SessionDep, principal: StoreWorker,
                                  store_id: int) -> Response:
    area = await store_area(session, principal, store_id)
    return await _new_form(request, session, principal, area, {"destination_location_id": str(store_id)})


@router.post("/backoffice/transfers/new", dependencies=[CsrfChecked])
async def create_transfer(request: Request, session: SessionDep, principal: InventoryWriter) -> Response:
    return await _create(request, session, principal, BACKOFFICE)


@router.post("/store/{store_id}/transfers/new", dependencies=[CsrfChecked])
async def store_create_transfer(request: Request, session: SessionDep, principal: StoreWorker,
                                store_id: int) -> Response:
    return await _create(request, session, principal, await store_area(session, principal, store_id))


async def _new_form(request: Request, session, principal: Principal, area: Area, values: dict[str, str], *,
                    errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    form_token(values)
    sources, destinations = await transfer_choices(session, principal)
    return render(request, "stock/transfer_new.html", {
        "area": area, "values": values, "errors": errors or {}, "sources": sources, "destinations": destinations,
    }, status_code=status_code)


async def _create(request: Request, session, principal: Principal, area: Area) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("source_location_id", "destination_location_id", "lines",
                                                 "order_reference", "note", "form_token")}
    form_token(values)
    errors: dict[str, str] = {}
    for field in ("source_location_id", "destination_location_id"):
        if not digits(values[field]):
            errors[field] = t(request, N_("Choose a location from the list."))
    lines, problem = parse_lines(request, values["lines"])
    if problem:
        errors["lines"] = problem
    if not errors:
        # the form's one-off token: a second tap on "Request transfer" lands on the first request's page
        answer = await replay_or_refusal(
            request, session, principal, "transfer", values,
            lambda **shown: _new_form(request, session, principal, area, values, **shown))
        if answer is not None:
            return answer
        try:
            async with session.begin_nested():
                transfer = await inventory_service.create_transfer(
                    session, source_location_id=int(values["source_location_id"]),
                    destination_location_id=int(values["destination_location_id"]), lines=lines,
                    actor=principal.label, order_reference=values["order_reference"].strip()[:100] or None,
                    note=values["note"].strip()[:500], scope=principal.location_ids)
        except (InvalidInput, NotFound) as exc:
            errors[field_of(exc, "lines")] = error_message(request, exc)
        else:
            url = f"{area.base}/transfers/{transfer.id}?done=requested"
            await remember_form(session, principal, "transfer", values, url)
            return RedirectResponse(url, status_code=303)
    return await _new_form(request, session, principal, area, values, errors=errors, status_code=400)


# --- one transfer ------------------------------------------------------------------------------------------

@router.get("/backoffice/transfers/{transfer_id}")
async def transfer_detail(request: Request, session: SessionDep, principal: InventoryReader, transfer_id: int,
                          done: str = "") -> Response:
    return await _detail(request, session, principal, BACKOFFICE, transfer_id, done=done)


@router.get("/store/{store_id}/transfers/{transfer_id}")
async def store_transfer_detail(request: Request, session: SessionDep, principal: StoreWorker, store_id: int,
                                transfer_id: int, done: str = "") -> Response:
    area = await store_area(session, principal, store_id)
    return await _detail(request, session, principal, area, transfer_id, done=done)


@router.post("/backoffice/transfers/{transfer_id}/{action}", dependencies=[CsrfChecked])
async def transfer_action(request: Request, session: SessionDep, principal: InventoryWriter, transfer_id: int,
                          action: str) -> Response:
    return await _act(request, session, principal, BACKOFFICE, transfer_id, action)


@router.post("/store/{store_id}/transfers/{transfer_id}/{action}", dependencies=[CsrfChecked])
async def store_transfer_action(request: Request, session: SessionDep, principal: StoreWorker, store_id: int,
                                transfer_id: int, action: str) -> Response:
    area = await store_area(session, principal, store_id)
    return await _act(request, session, principal, area, transfer_id, action)


async def _transfer_in(session, principal: Principal, area: Area, transfer_id: int):
    transfer = await inventory_service.get_transfer(session, transfer_id, scope=principal.location_ids)
    if area.store_id is not None and area.store_id not in (transfer.source_location_id,
                                                           transfer.destination_location_id):
        raise NotFound(f"transfer {transfer_id} not found", transfer_id=transfer_id)
    return transfer


def _may(principal: Principal, location_id: int) -> bool:
    return principal.can("inventory:write") and principal.sees_location(location_id)


async def _detail(request: Request, session, principal: Principal, area: Area, transfer_id: int, *,
                  done: str = "", errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    transfer = await _transfer_in(session, principal, area, transfer_id)
    state = transfer.state.value
    received_zone = None  # a store's page: its own zone throughout
    if area.store is None:  # the back office: sent in the source's time, received in the destination's
        zones = await location_zones(session, (transfer.source_location_id, transfer.destination_location_id))
        use_zone(request, zones.get(transfer.source_location_id))
        received_zone = zones.get(transfer.destination_location_id)
    return render(request, "stock/transfer.html", {
        "area": area, "transfer": transfer, "states": TRANSFER_STATES, "errors": errors or {},
        "received_zone": received_zone,
        "values": values or {}, "done": DONE_MESSAGES.get(done) if done in ("requested", "shipped", "received",
                                                                             "cancelled") else None,
        "locations": await location_choices(session, principal),
        "can_ship": state == "requested" and _may(principal, transfer.source_location_id),
        "can_receive": state == "in_transit" and _may(principal, transfer.destination_location_id),
        "can_cancel": state == "requested" and principal.can("inventory:write"),
    }, status_code=status_code)


async def _act(request: Request, session, principal: Principal, area: Area, transfer_id: int,
               action: str) -> Response:
    if action not in ("ship", "receive", "cancel"):
        raise NotFound("there is no such page")
    await _transfer_in(session, principal, area, transfer_id)
    form = await request.form()
    errors: dict[str, str] = {}
    values = {f"quantity-{i}": str(v) for i, v in enumerate(form.getlist("quantity"))}
    lines = quantity_lines(request, form, "quantity", errors) if action != "cancel" else []
    if not errors:
        try:
            async with session.begin_nested():
                if action == "ship":
                    await inventory_service.ship_transfer(session, transfer_id, actor=principal.label, lines=lines,
                                                          scope=principal.location_ids)
                elif action == "receive":
                    await inventory_service.receive_transfer(
                        session, transfer_id, actor=principal.label, lines=lines, scope=principal.location_ids,
                        context={"secret_key": request.app.state.settings.resolved_secret_key()})  # ship-to-store
                else:
                    await inventory_service.cancel_transfer(session, transfer_id, actor=principal.label,
                                                            scope=principal.location_ids)
        except PermissionDenied:
            raise
        except DomainError as exc:
            errors["form"] = error_message(request, exc)
            status_code = 409 if isinstance(exc, Conflict) else 400
            return await _detail(request, session, principal, area, transfer_id, errors=errors, values=values,
                                 status_code=status_code)
        done = {"ship": "shipped", "receive": "received", "cancel": "cancelled"}[action]
        return RedirectResponse(f"{area.base}/transfers/{transfer_id}?done={done}", status_code=303)
    return await _detail(request, session, principal, area, transfer_id, errors=errors, values=values,
                         status_code=400)
