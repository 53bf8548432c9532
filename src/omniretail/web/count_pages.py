"""Count sheet pages, in the back office and in the store app (``/store/{location_id}/counts``): list, start
a sheet, enter counts, submit, and — for managers — approve or reject the variances. Forms post with the
CSRF token; the rules (thresholds, who may approve, what moves) are the inventory service's.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.deps import SessionDep
from omniretail.auth.schemas import Principal
from omniretail.inventory import service as inventory_service
from omniretail.inventory.schemas import DEFAULT_VARIANCE_THRESHOLD, CountSheetState
from omniretail.platform.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    PermissionDenied,
)

from .csrf import CsrfChecked
from .deps import PageRoute, StoreWorker, render
from .i18n import N_, location_zone, use_zone
from .stock_forms import (
    BACKOFFICE,
    DONE_MESSAGES,
    MAX_FORM_LINES,
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
    quantity_lines,
    remember_form,
    replay_or_refusal,
    store_area,
    t,
    whole_number,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SHEET_STATES = {s.value: STATE_LABELS[s.value] for s in CountSheetState}
ACTIONS = {"save": "saved", "submit": "submitted", "approve": "approved", "reject": "rejected"}
PAGE_SIZE = 50


# --- list --------------------------------------------------------------------------------------------------

@router.get("/backoffice/counts")
async def counts_list(request: Request, session: SessionDep, principal: InventoryReader, state: str = "",
                      location_id: str = "", cursor: str | None = None) -> Response:
    return await _list(request, session, principal, BACKOFFICE, state=state, location_id=location_id,
                       cursor=cursor)


@router.get("/store/{store_id}/counts")
async def store_counts(request: Request, session: SessionDep, principal: StoreWorker, store_id: int,
                       state: str = "", cursor: str | None = None) -> Response:
    area = await store_area(session, principal, store_id)
    return await _list(request, session, principal, area, state=state, location_id=str(store_id), cursor=cursor)


async def _list(request: Request, session, principal: Principal, area: Area, *, state: str, location_id: str,
                cursor: str | None) -> Response:
    return await filtered_list(request, session, principal, area, state=state, location_id=location_id,
                               cursor=cursor, states=SHEET_STATES, lister=inventory_service.list_count_sheets,
                               template="stock/counts.html", rows_key="sheets", page_size=PAGE_SIZE)


# --- start a sheet -----------------------------------------------------------------------------------------

@router.get("/backoffice/counts/new")
async def new_count_form(request: Request, session: SessionDep, principal: InventoryWriter) -> Response:
    return await _new_form(request, session, principal, BACKOFFICE, {})


@router.get("/store/{store_id}/counts/new")
async def store_new_count_form(request: Request, session: SessionDep, principal: StoreWorker,
                               store_id: int) -> Response:
    area = await store_area(session, principal, store_id)
    return await _new_form(request, session, principal, area, {"location_id": str(store_id)})


@router.post("/backoffice/counts/new", dependencies=[CsrfChecked])
async def create_count(request: Request, session: SessionDep, principal: InventoryWriter) -> Response:
    return await _create(request, session, principal, BACKOFFICE)


@router.post("/store/{store_id}/counts/new", dependencies=[CsrfChecked])
async def store_create_count(request: Request, session: SessionDep, principal: StoreWorker,
                             store_id: int) -> Response:
    return await _create(request, session, principal, await store_area(session, principal, store_id))


async def _new_form(request: Request, session, principal: Principal, area: Area, values: dict[str, str], *,
                    errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    values.setdefault("variance_threshold", str(DEFAULT_VARIANCE_THRESHOLD))
    form_token(values)
    return render(request, "stock/count_new.html", {
        "area": area, "values": values, "errors": errors or {},
        "locations": await location_choices(session, principal),
    }, status_code=status_code)


async def _create(request: Request, session, principal: Principal, area: Area) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")) for k in ("location_id", "skus", "variance_threshold", "note", "form_token")}
    form_token(values)
    if area.store_id is not None:
        values["location_id"] = str(area.store_id)
    errors: dict[str, str] = {}
    if not digits(values["location_id"]):
        errors["location_id"] = t(request, N_("Choose a location from the list."))
    threshold = whole_number(values["variance_threshold"])
    if threshold is None:
        errors["variance_threshold"] = t(request, N_("Enter a whole number, 0 or more."))
    skus = [s for s in re.split(r"[\s,;]+", values["skus"]) if s]
    if len(skus) > MAX_FORM_LINES:
        errors["skus"] = t(request, N_("At most %(limit)s lines at a time."), limit=MAX_FORM_LINES)
    if not errors:
        # the form's one-off token: a second tap on "Start count" lands on the first sheet
        answer = await replay_or_refusal(
            request, session, principal, "count", values,
            lambda **shown: _new_form(request, session, principal, area, values, **shown))
        if answer is not None:
            return answer
        try:
            async with session.begin_nested():
                sheet = await inventory_service.create_count_sheet(
                    session, location_id=int(values["location_id"]), actor=principal.label, skus=skus or None,
                    variance_threshold=threshold, note=values["note"].strip()[:500], scope=principal.location_ids)
        except (InvalidInput, NotFound) as exc:
            field = field_of(exc, "skus")
            errors["location_id" if field == "location_id" or isinstance(exc, NotFound) else field] = \
                error_message(request, exc)
        else:
            url = f"{area.base}/counts/{sheet.id}?done=created"
            await remember_form(session, principal, "count", values, url)
            return RedirectResponse(url, status_code=303)
    return await _new_form(request, session, principal, area, values, errors=errors, status_code=400)


# --- one sheet ---------------------------------------------------------------------------------------------

@router.get("/backoffice/counts/{sheet_id}")
async def count_detail(request: Request, session: SessionDep, principal: InventoryReader, sheet_id: int,
                       done: str = "") -> Response:
    return await _detail(request, session, principal, BACKOFFICE, sheet_id, done=done)


@router.get("/store/{store_id}/counts/{sheet_id}")
async def store_count_detail(request: Request, session: SessionDep, principal: StoreWorker, store_id: int,
                             sheet_id: int, done: str = "") -> Response:
    area = await store_area(session, principal, store_id)
    return await _detail(request, session, principal, area, sheet_id, done=done)


@router.post("/backoffice/counts/{sheet_id}/{action}", dependencies=[CsrfChecked])
async def count_action(request: Request, session: SessionDep, principal: InventoryWriter, sheet_id: int,
                       action: str) -> Response:
    return await _act(request, session, principal, BACKOFFICE, sheet_id, action)


@router.post("/store/{store_id}/counts/{sheet_id}/{action}", dependencies=[CsrfChecked])
async def store_count_action(request: Request, session: SessionDep, principal: StoreWorker, store_id: int,
                             sheet_id: int, action: str) -> Response:
    area = await store_area(session, principal, store_id)
    return await _act(request, session, principal, area, sheet_id, action)


async def _sheet_in(session, principal: Principal, area: Area, sheet_id: int):
    sheet = await inventory_service.get_count_sheet(session, sheet_id, scope=principal.location_ids)
    if area.store_id is not None and sheet.location_id != area.store_id:
        raise NotFound(f"count sheet {sheet_id} not found", sheet_id=sheet_id)
    return sheet


async def _detail(request: Request, session, principal: Principal, area: Area, sheet_id: int, *,
                  done: str = "", errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                  status_code: int = 200) -> Response:
    sheet = await _sheet_in(session, principal, area, sheet_id)
    state = sheet.state.value
    writer = principal.can("inventory:write")
    use_zone(request, await location_zone(session, sheet.location_id))  # the counted location's time
    return render(request, "stock/count.html", {
        "area": area, "sheet": sheet, "states": SHEET_STATES, "errors": errors or {}, "values": values or {},
        "done": DONE_MESSAGES.get(done) if done in ("created", *ACTIONS.values()) else None,
        "can_count": state == "open" and writer,
        "can_approve": state == "submitted" and inventory_service.may_approve(principal),
        "can_reject": state in ("open", "submitted") and inventory_service.may_approve(principal),
    }, status_code=status_code)


async def _act(request: Request, session, principal: Principal, area: Area, sheet_id: int,
               action: str) -> Response:
    if action not in ACTIONS:
        raise NotFound("there is no such page")
    await _sheet_in(session, principal, area, sheet_id)
    form = await request.form()
    errors: dict[str, str] = {}
    values = {f"counted-{i}": str(v) for i, v in enumerate(form.getlist("counted"))}
    lines = quantity_lines(request, form, "counted", errors) if action in ("save", "submit") else []
    if errors:
        return await _detail(request, session, principal, area, sheet_id, errors=errors, values=values,
                             status_code=400)
    try:
        async with session.begin_nested():
            if lines:
                await inventory_service.record_counts(session, sheet_id, lines=lines, actor=principal.label,
                                                      scope=principal.location_ids)
            if action == "submit":
                await inventory_service.submit_count_sheet(session, sheet_id, actor=principal.label,
                                                           scope=principal.location_ids)
            elif action == "approve":
                await inventory_service.approve_count_sheet(session, sheet_id, approver=principal)
            elif action == "reject":
                await inventory_service.reject_count_sheet(session, sheet_id, approver=principal)
    except PermissionDenied:
        raise
    except DomainError as exc:
        errors["form"] = error_message(request, exc)
        return await _detail(request, session, principal, area, sheet_id, errors=errors, values=values,
                             status_code=409 if isinstance(exc, Conflict) else 400)
    return RedirectResponse(f"{area.base}/counts/{sheet_id}?done={ACTIONS[action]}", status_code=303)
