"""Back office administration: users and roles (list, create, change role / locations / channels, deactivate;
``users:manage``, i.e. owners and administrators) and the audit log (filter by actor, action and date;
``audit:read``). Everything goes through the auth service, which checks the scopes a role needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from omniretail.api.deps import SessionDep
from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Principal, Role, UserCreate, UserUpdate
from omniretail.channels import service as channels_service
from omniretail.platform.errors import AlreadyExists, InvalidInput, NotFound
from omniretail.platform.i18n import SUPPORTED_LOCALES

from .csrf import CsrfChecked
from .deps import PageRoute, render, signed_in
from .error_text import describe
from .i18n import N_
from .paging import next_page_url
from .stock_forms import digits, location_choices, t
from .templating import ROLE_LABELS

router = APIRouter(route_class=PageRoute, include_in_schema=False)
UserManager = Annotated[Principal, signed_in("users:manage")]
AuditReader = Annotated[Principal, signed_in("audit:read")]
PAGE_SIZE = 50
DONE_MESSAGES = {"created": N_("The user was created."), "saved": N_("The changes were saved."),
                 "deactivated": N_("The user was deactivated and signed out."),
                 "activated": N_("The user can sign in again.")}
FIELD_MESSAGES = {
    "email": N_("Enter an email address, like name@example.com."),
    "password": N_("A password has at least 10 characters."),
    "full_name": N_("At most 200 characters."),
}


async def _choices(session, principal: Principal) -> dict[str, dict[str, str]]:
    channels, _ = await channels_service.list_channels(session, principal=principal, limit=500, sort="name")
    return {"locations": await location_choices(session, principal),
            "channels": {str(c.id): c.name for c in channels},
            "roles": {r.value: ROLE_LABELS[r.value] for r in Role},
            "locales": {code: code for code in SUPPORTED_LOCALES}}


def _ids(form, name: str) -> list[int]:
    return sorted({int(v) for v in form.getlist(name) if digits(str(v))})


def _validation_errors(request: Request, exc: ValidationError) -> dict[str, str]:
    errors = {}
    for problem in exc.errors():
        field = str(problem["loc"][0]) if problem["loc"] else "form"
        errors[field] = t(request, FIELD_MESSAGES.get(field, N_("Check this value.")))
    return errors


def _service_error(request: Request, exc: InvalidInput | AlreadyExists) -> dict[str, str]:
    field = str(exc.extensions.get("field") or "form")
    if isinstance(exc, AlreadyExists):
        return {"email": t(request, N_("A user with this email address exists."))}
    if field == "location_ids":
        return {field: t(request, N_("A store associate needs at least one location."))}
    if field == "channel_ids":
        return {field: t(request, N_("An integration account needs at least one channel."))}
    return {field: describe(request, exc)}


# --- users ---------------------------------------------------------------------------------------------------

@router.get("/backoffice/users")
async def user_list(request: Request, session: SessionDep, principal: UserManager, cursor: str | None = None,
                    done: str = "") -> Response:
    users, next_cursor = await auth_service.list_users(session, cursor=cursor, limit=PAGE_SIZE, sort="email")
    return render(request, "backoffice/users.html", {
        "users": [auth_service.user_read(u) for u in users], "next_url": next_page_url(request, next_cursor),
        "locations": await location_choices(session, principal), "done": DONE_MESSAGES.get(done),
    })


async def _user_form(request: Request, session, principal: Principal, *, user=None, values=None, errors=None,
                     done: str = "", status_code: int = 200) -> Response:
    return render(request, "backoffice/user_form.html", {
        "user": user, "values": values or {}, "errors": errors or {}, "done": DONE_MESSAGES.get(done),
        "is_self": user is not None and user.id == principal.user_id, **await _choices(session, principal),
    }, status_code=status_code)


@router.get("/backoffice/users/new")
async def new_user_form(request: Request, session: SessionDep, principal: UserManager) -> Response:
    return await _user_form(request, session, principal, values={"role": "associate", "locale": "pl",
                                                                 "location_ids": [], "channel_ids": []})


@router.post("/backoffice/users/new", dependencies=[CsrfChecked])
async def create_user(request: Request, session: SessionDep, principal: UserManager) -> Response:
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("email", "full_name", "role", "locale")}
    values.update(location_ids=_ids(form, "location_ids"), channel_ids=_ids(form, "channel_ids"))
    password = str(form.get("password", ""))
    errors: dict[str, str] = {}
    if values["role"] not in {r.value for r in Role}:
        errors["role"] = t(request, N_("Choose a role from the list."))
    if values["locale"] not in SUPPORTED_LOCALES:
        errors["locale"] = t(request, N_("Choose a language from the list."))
    if not errors:
        try:
            data = UserCreate(email=values["email"], full_name=values["full_name"], role=values["role"],
                              password=password or None, locale=values["locale"],
                              location_ids=values["location_ids"], channel_ids=values["channel_ids"])
        except ValidationError as exc:
            errors = _validation_errors(request, exc)
    if not errors:
        try:
            async with session.begin_nested():
                user = await auth_service.create_user(session, data=data)
        except (InvalidInput, AlreadyExists) as exc:
            errors = _service_error(request, exc)
        else:
            return RedirectResponse(f"/backoffice/users/{user.id}?done=created", status_code=303)
    return await _user_form(request, session, principal, values=values, errors=errors, status_code=400)


@router.get("/backoffice/users/{user_id}")
async def edit_user_form(request: Request, session: SessionDep, principal: UserManager, user_id: int,
                         done: str = "") -> Response:
    user = auth_service.user_read(await auth_service.get_user(session, user_id))
    return await _user_form(request, session, principal, user=user, done=done, values={
        "full_name": user.full_name, "role": user.role.value, "locale": user.locale,
        "location_ids": user.location_ids, "channel_ids": user.channel_ids})


@router.post("/backoffice/users/{user_id}", dependencies=[CsrfChecked])
async def update_user(request: Request, session: SessionDep, principal: UserManager, user_id: int) -> Response:
    user = auth_service.user_read(await auth_service.get_user(session, user_id))
    form = await request.form()
    values = {k: str(form.get(k, "")).strip() for k in ("full_name", "role", "locale")}
    values.update(location_ids=_ids(form, "location_ids"), channel_ids=_ids(form, "channel_ids"))
    errors: dict[str, str] = {}
    if values["role"] not in {r.value for r in Role}:
        errors["role"] = t(request, N_("Choose a role from the list."))
    if values["locale"] not in SUPPORTED_LOCALES:
        errors["locale"] = t(request, N_("Choose a language from the list."))
    if not errors:
        try:
            data = UserUpdate(full_name=values["full_name"], role=values["role"], locale=values["locale"],
                              location_ids=values["location_ids"], channel_ids=values["channel_ids"])
            async with session.begin_nested():
                await auth_service.update_user(session, user_id, data=data)
        except ValidationError as exc:
            errors = _validation_errors(request, exc)
        except InvalidInput as exc:
            errors = _service_error(request, exc)
        else:
            return RedirectResponse(f"/backoffice/users/{user_id}?done=saved", status_code=303)
    return await _user_form(request, session, principal, user=user, values=values, errors=errors, status_code=400)


@router.post("/backoffice/users/{user_id}/{change}", dependencies=[CsrfChecked])
async def set_active(request: Request, session: SessionDep, principal: UserManager, user_id: int,
                     change: str) -> Response:
    if change not in ("deactivate", "activate"):
        raise NotFound("there is no such page")
    if change == "deactivate" and user_id == principal.user_id:
        raise InvalidInput("you cannot deactivate yourself", field="is_active")
    await auth_service.update_user(session, user_id, data=UserUpdate(is_active=change == "activate"))
    return RedirectResponse(f"/backoffice/users/{user_id}?done={change}d", status_code=303)


# --- the audit log -------------------------------------------------------------------------------------------

def _day(value: str, field: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        errors[field] = N_("Enter a date as YYYY-MM-DD.")
        return None


@router.get("/backoffice/audit")
async def audit_log(request: Request, session: SessionDep, principal: AuditReader, actor: str = "",
                    action: str = "", since: str = "", until: str = "", cursor: str | None = None) -> Response:
    filters = {"actor": actor, "action": action, "since": since, "until": until}
    errors: dict[str, str] = {}
    first, last = _day(since, "since", errors), _day(until, "until", errors)
    if first and last and last < first:
        errors["until"] = N_("The end date is before the start date.")
    events, next_cursor = [], None
    if not errors:
        try:
            events, next_cursor = await auth_service.list_audit(
                session, entity=None, entity_id=None, actor_user_id=None, actor=actor.strip() or None,
                action=action.strip() or None, cursor=cursor, limit=PAGE_SIZE,
                since=datetime.combine(first, datetime.min.time(), UTC) if first else None,
                until=datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC) if last else None)
        except InvalidInput as exc:
            errors[str(exc.extensions.get("field") or "action")] = describe(request, exc)
    return render(request, "backoffice/audit.html", {
        "events": events, "filters": filters, "errors": errors, "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)
