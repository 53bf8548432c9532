"""Sign in and sign out (browser sessions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.authentication import SESSION_COOKIE
from omniretail.api.deps import SessionDep, SettingsDep
from omniretail.auth import service as auth_service
from omniretail.auth.permissions import HOME_PAGE, Role
from omniretail.platform.i18n import SUPPORTED_LOCALES

from .csrf import CsrfChecked, rotate_csrf_token
from .deps import MaybePrincipal, PageRoute, render
from .i18n import LOCALE_COOKIE, N_

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LOCALE_NAMES = {"en": "English", "pl": "Polski", "tr": "Türkçe", "sq": "Shqip"}


def home_of(role: str) -> str:
    return HOME_PAGE[Role(role)]


def safe_next(value: str | None) -> str | None:
    """Only same-site paths: ``/x`` but not ``//host`` or ``/\\host``."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) and "\n" not in value:
        return value
    return None


def _login_form(request: Request, *, email: str = "", next_path: str | None = None,
                errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    return render(request, "login.html", {
        "email": email, "next": next_path or "", "errors": errors or {}, "locale_names": LOCALE_NAMES,
    }, status_code=status_code)


@router.get("/login")
async def login_form(request: Request, principal: MaybePrincipal, settings: SettingsDep,
                     next: str | None = None, lang: str | None = None) -> Response:
    if principal is not None and principal.user_id is not None:
        return RedirectResponse(safe_next(next) or home_of(principal.role), status_code=303)
    if lang in SUPPORTED_LOCALES:
        request.state.locale = lang
        response = _login_form(request, next_path=safe_next(next))
        response.set_cookie(LOCALE_COOKIE, lang, max_age=365 * 86400, samesite="lax",
                            secure=settings.secure_cookies)
        return response
    return _login_form(request, next_path=safe_next(next))


@router.post("/login", dependencies=[CsrfChecked])
async def login(
    request: Request, session: SessionDep, settings: SettingsDep,
    email: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    errors: dict[str, str] = {}
    if not email.strip():
        errors["email"] = N_("Enter your email address.")
    if not password:
        errors["password"] = N_("Enter your password.")
    user = None
    if not errors:
        user = await auth_service.authenticate(session, email=email, password=password)
        if user is None:
            errors["password"] = N_("The email address or password is not right.")
    if user is None:
        return _login_form(request, email=email, next_path=safe_next(next), errors=errors, status_code=400)
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await auth_service.end_web_session(session, old)
    plain = await auth_service.start_web_session(session, user=user, max_age_s=settings.session_max_age_s)
    await auth_service.record_audit(session, actor=auth_service.principal_for(user), action="sign_in",
                                    entity="user", entity_id=user.id)
    response = RedirectResponse(safe_next(next) or home_of(user.role), status_code=303)
    response.set_cookie(SESSION_COOKIE, plain, max_age=settings.session_max_age_s, httponly=True,
                        samesite="lax", secure=settings.secure_cookies, path="/")
    rotate_csrf_token(request)
    return response


@router.post("/logout", dependencies=[CsrfChecked])
async def logout(request: Request, session: SessionDep) -> Response:
    plain = request.cookies.get(SESSION_COOKIE)
    if plain:
        await auth_service.end_web_session(session, plain)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
