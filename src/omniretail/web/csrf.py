"""CSRF protection for the pages: a random token in the ``omniretail_csrf`` cookie (HttpOnly,
SameSite=Strict), repeated in a hidden field of every form and compared on every POST (double submit).

``CsrfCookieMiddleware`` gives each page request a token (the cookie's, or a new one it sets on the HTML
response); ``verify_csrf`` is the dependency every page POST declares.
"""

from __future__ import annotations

import secrets

from fastapi import Depends, Request
from starlette.requests import cookie_parser

from omniretail.api.authentication import CSRF_COOKIE, CSRF_FIELD, csrf_matches
from omniretail.platform.errors import PermissionDenied

SCOPE_KEY = "omniretail.csrf"
# Not pages of ours: the JSON API, assets, probes, and the API docs (which load Swagger UI from a CDN).
_SKIP_PREFIXES = ("/api/", "/static/", "/healthz", "/metrics", "/openapi.json", "/docs", "/redoc")


def csrf_token(request: Request) -> str:
    """The token to put in this page's forms."""
    holder = request.scope.get(SCOPE_KEY)
    if holder is None:  # outside the middleware (should not happen for pages)
        return request.cookies.get(CSRF_COOKIE, "")
    return holder["token"]


def rotate_csrf_token(request: Request) -> str:
    """A fresh token (after sign-in), set on the response by the middleware."""
    holder = request.scope.setdefault(SCOPE_KEY, {"token": "", "new": False})
    holder.update(token=secrets.token_urlsafe(32), new=True)
    return holder["token"]


async def verify_csrf(request: Request) -> None:
    form = await request.form()
    submitted = form.get(CSRF_FIELD)
    if not csrf_matches(request, submitted if isinstance(submitted, str) else None):
        raise PermissionDenied("the form is out of date or was not sent by this site; reload the page and "
                               "try again", code_hint="csrf")


CsrfChecked = Depends(verify_csrf)


class CsrfCookieMiddleware:
    """Pure ASGI: make sure every HTML page can carry a CSRF token, and add the page's security headers."""

    def __init__(self, app, *, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"].startswith(_SKIP_PREFIXES):
            await self.app(scope, receive, send)
            return
        existing = _cookie(scope, CSRF_COOKIE)
        holder = {"token": existing or secrets.token_urlsafe(32), "new": not existing}
        scope[SCOPE_KEY] = holder

        async def send_with_cookie(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = dict(headers).get(b"content-type", b"")
                is_page = content_type.startswith(b"text/html") or message["status"] in (302, 303)
                if holder["new"] and is_page:
                    headers.append((b"set-cookie", self._cookie_header(holder["token"])))
                if content_type.startswith(b"text/html"):
                    headers.extend(SECURITY_HEADERS)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie_header(self, token: str) -> bytes:
        parts = [f"{CSRF_COOKIE}={token}", "Path=/", "HttpOnly", "SameSite=Strict"]
        if self.secure:
            parts.append("Secure")
        return "; ".join(parts).encode()


SECURITY_HEADERS = [
    (b"content-security-policy", (b"default-src 'self'; img-src 'self' https: data:; style-src 'self'; "
                                  b"script-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                  b"base-uri 'none'")),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
]


def _cookie(scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            return cookie_parser(value.decode("latin-1")).get(name) or None
    return None
