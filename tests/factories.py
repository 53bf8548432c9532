"""Builders for test data. Each returns what it created; no test relies on another's leftovers."""

from __future__ import annotations

import itertools

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Role, UserCreate
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import Capabilities, LocationCreate, LocationKind

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


async def create_location(session: AsyncSession, *, code: str | None = None, kind: str = "store",
                          **fields) -> int:
    caps = fields.pop("capabilities", {"offers_pickup": True, "sells_pos": True, "accepts_returns": True})
    loc = await locations_service.create_location(session, data=LocationCreate(
        code=code or unique("LOC"), name=fields.pop("name", "Test store"), kind=LocationKind(kind),
        latitude=fields.pop("latitude", 52.2297), longitude=fields.pop("longitude", 21.0122),
        capabilities=Capabilities(**caps), **fields,
    ))
    return loc.id


async def create_user_with_token(session: AsyncSession, *, role: str = "owner", location_ids=(),
                                 channel_ids=(), email: str | None = None,
                                 password: str | None = "correct-horse-battery") -> tuple[int, str]:
    user = await auth_service.create_user(session, data=UserCreate(
        email=email or f"{unique('user')}@example.com", role=Role(role), password=password,
        location_ids=list(location_ids), channel_ids=list(channel_ids),
    ))
    _token, plain = await auth_service.create_api_token(session, user_id=user.id, name="test")
    await session.commit()
    return user.id, plain


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def owner_client_headers(session: AsyncSession) -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role="owner")
    return bearer(token)


def problem(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.json()
