"""Helpers for page tests: sign in through the real form (CSRF cookie and all)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.factories import create_user_with_token, unique

PASSWORD = "correct-horse-battery"
HTML = {"Accept": "text/html"}


def csrf_from(page: httpx.Response) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, session, *, role: str = "manager", location_ids=(),
                  channel_ids=(), locale: str | None = None) -> str:
    """Create a user and sign in with the login form; the client keeps the cookies. Returns the email."""
    email = f"{unique(role)}@example.com"
    user_id, _token = await create_user_with_token(session, role=role, location_ids=location_ids,
                                                   channel_ids=channel_ids, email=email, password=PASSWORD)
    if locale:
        from omniretail.auth import service as auth_service
        from omniretail.auth.schemas import UserUpdate

        await auth_service.update_user(session, user_id, data=UserUpdate(locale=locale))
        await session.commit()
    form = await client.get("/login", headers=HTML)
    response = await client.post("/login", data={"email": email, "password": PASSWORD,
                                                  "csrf_token": csrf_from(form)}, headers=HTML)
    assert response.status_code == 303, response.text
    return email


@pytest.fixture
def html() -> dict[str, str]:
    return HTML
