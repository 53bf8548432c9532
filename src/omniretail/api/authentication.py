"""Who is calling: a bearer API token, or a browser session cookie (with CSRF checks for unsafe calls)."""

from __future__ import annotations

import hmac

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Principal
from omniretail.platform.errors import NotAuthenticated, PermissionDenied

SESSION_COOKIE = "omniretail_session"
CSRF_COOKIE = "omniretail_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


async def resolve_principal(request: Request, session: AsyncSession) -> Principal | None:
    authorization = request.headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise NotAuthenticated("use 'Authorization: Bearer <token>'")
        principal = await auth_service.principal_from_token(session, value.strip())
        if principal is None:
            raise NotAuthenticated("the API token is unknown, expired or revoked")
        return principal
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    principal = await auth_service.principal_from_web_session(session, cookie)
    if principal is None:
        return None
    request.state.via_session = True
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.scope["path"].startswith("/api/"):
        # A browser calling the JSON API with its cookie must prove it read our page (double submit).
        if not csrf_matches(request, request.headers.get(CSRF_HEADER)):
            raise PermissionDenied("missing or wrong X-CSRF-Token header", code_hint="csrf")
    return principal


def csrf_matches(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    return bool(expected and submitted and hmac.compare_digest(expected, submitted))
