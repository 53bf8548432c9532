"""Accounts, API tokens, browser sessions and the audit log."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.crypto import sha256_hex
from omniretail.platform.errors import AlreadyExists, InvalidInput, NotFound
from omniretail.platform.pagination import SortSpec, paginate

from .models import ApiToken, AuditEvent, User, UserChannel, UserLocation, WebSession
from .passwords import hash_password, verify_password
from .permissions import Principal, Role
from .schemas import UserCreate, UserRead, UserUpdate

TOKEN_PREFIX = "omr_"
_DUMMY_HASH = hash_password("not-a-real-password-just-equal-work")


def user_read(user: User) -> UserRead:
    return UserRead(
        id=user.id, email=user.email, full_name=user.full_name, role=Role(user.role), locale=user.locale,
        is_active=user.is_active, location_ids=sorted(link.location_id for link in user.locations),
        channel_ids=sorted(link.channel_id for link in user.channels), created_at=user.created_at,
        last_login_at=user.last_login_at,
    )


def principal_for(user: User, *, token_id: int | None = None) -> Principal:
    return Principal.build(
        user_id=user.id, email=user.email, role=user.role,
        location_ids=[link.location_id for link in user.locations],
        channel_ids=[link.channel_id for link in user.channels], token_id=token_id, locale=user.locale,
    )


def _check_scopes(role: Role, location_ids: list[int], channel_ids: list[int]) -> None:
    if role is Role.ASSOCIATE and not location_ids:
        raise InvalidInput("a store associate needs at least one location", field="location_ids")
    if role is Role.INTEGRATION and not channel_ids:
        raise InvalidInput("an integration account needs at least one channel", field="channel_ids")


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


async def find_user_by_email(session: AsyncSession, email: str) -> User | None:
    return (
        await session.execute(select(User).where(func.lower(User.email) == email.strip().lower()))
    ).scalar_one_or_none()


async def create_user(session: AsyncSession, *, data: UserCreate) -> User:
    _check_scopes(data.role, data.location_ids, data.channel_ids)
    if await find_user_by_email(session, data.email):
        raise AlreadyExists(f"a user with email {data.email} exists", field="email")
    user = User(
        email=data.email.strip().lower(), full_name=data.full_name, role=data.role.value,
        password_hash=hash_password(data.password) if data.password else None, locale=data.locale,
        is_active=True,
        locations=[UserLocation(location_id=i) for i in sorted(set(data.location_ids))],
        channels=[UserChannel(channel_id=i) for i in sorted(set(data.channel_ids))],
    )
    session.add(user)
    await session.flush()
    return user


async def update_user(session: AsyncSession, user_id: int, *, data: UserUpdate) -> User:
    user = await get_user(session, user_id)
    if data.full_name is not None:
        user.full_name = data.full_name
    if data.role is not None:
        user.role = data.role.value
    if data.password is not None:
        user.password_hash = hash_password(data.password)
    if data.locale is not None:
        user.locale = data.locale
    if data.is_active is not None:
        user.is_active = data.is_active
        if not data.is_active:
            await session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    if data.location_ids is not None:
        user.locations = [UserLocation(location_id=i) for i in sorted(set(data.location_ids))]
    if data.channel_ids is not None:
        user.channels = [UserChannel(channel_id=i) for i in sorted(set(data.channel_ids))]
    _check_scopes(Role(user.role), [x.location_id for x in user.locations], [x.channel_id for x in user.channels])
    await session.flush()
    invalidate_principal_cache()
    return user


async def list_users(session: AsyncSession, *, cursor: str | None, limit: int, sort: str | None):
    return await paginate(
        session, select(User), id_column=User.id,
        sort=SortSpec({"id": User.id, "email": User.email, "created_at": User.created_at}),
        sort_value=sort, cursor=cursor, limit=limit,
    )


async def authenticate(session: AsyncSession, *, email: str, password: str) -> User | None:
    """Check a password without blocking the event loop (Argon2 costs tens of milliseconds of CPU)."""
    user = await find_user_by_email(session, email)
    stored_hash = user.password_hash if user is not None else _DUMMY_HASH  # same work for unknown emails
    ok = await anyio.to_thread.run_sync(verify_password, stored_hash, password)
    if user is None or not user.is_active or not ok:
        return None
    user.last_login_at = clock.now()
    return user


# --- API tokens -------------------------------------------------------------------------------------

async def create_api_token(
    session: AsyncSession, *, user_id: int, name: str, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token; the plain value is returned once and only its SHA-256 is stored."""
    await get_user(session, user_id)
    secret = secrets.token_urlsafe(32)
    plain = f"{TOKEN_PREFIX}{secret}"
    token = ApiToken(
        user_id=user_id, name=name, prefix=plain[:12], token_hash=sha256_hex(plain),
        created_at=clock.now(), expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token, plain


async def principal_from_token(session: AsyncSession, plain: str) -> Principal | None:
    """The principal behind a bearer token: one indexed query, then a short in-process cache."""
    key = "t:" + sha256_hex(plain)
    cached = _cache_get(key)
    if cached is not None:
        return cached
    row = (
        await session.execute(
            select(User.id, User.email, User.role, User.locale, User.is_active, ApiToken.id,
                   ApiToken.revoked_at, ApiToken.expires_at)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == key[2:])
        )
    ).first()
    if row is None:
        return None
    user_id, email, role, locale, is_active, token_id, revoked_at, expires_at = row
    now = clock.now()
    if revoked_at or (expires_at and expires_at <= now) or not is_active:
        return None
    principal = await _build_principal(session, user_id=user_id, email=email, role=role, locale=locale,
                                       token_id=token_id)
    _cache_put(key, principal, expires_at)
    return principal


async def _build_principal(session: AsyncSession, *, user_id: int, email: str, role: str, locale: str,
                           token_id: int | None) -> Principal:
    location_ids: list[int] = []
    channel_ids: list[int] = []
    if role == Role.ASSOCIATE:
        location_ids = list((await session.scalars(
            select(UserLocation.location_id).where(UserLocation.user_id == user_id))).all())
    elif role == Role.INTEGRATION:
        channel_ids = list((await session.scalars(
            select(UserChannel.channel_id).where(UserChannel.user_id == user_id))).all())
    return Principal.build(user_id=user_id, email=email, role=role, location_ids=location_ids,
                           channel_ids=channel_ids, token_id=token_id, locale=locale)


# A few seconds of caching saves the lookup on every API call; every change to a user, token or session
# made through this process clears it, other processes see the change within PRINCIPAL_CACHE_SECONDS.
PRINCIPAL_CACHE_SECONDS = 5.0
_PRINCIPAL_CACHE_MAX = 10_000
_principal_cache: dict[str, tuple[float, datetime | None, Principal]] = {}


def _cache_get(key: str) -> Principal | None:
    hit = _principal_cache.get(key)
    if hit is None:
        return None
    until, expires_at, principal = hit
    if time.monotonic() >= until or (expires_at is not None and expires_at <= clock.now()):
        _principal_cache.pop(key, None)
        return None
    return principal


def _cache_put(key: str, principal: Principal, expires_at: datetime | None) -> None:
    if PRINCIPAL_CACHE_SECONDS <= 0:
        return
    if len(_principal_cache) >= _PRINCIPAL_CACHE_MAX:
        _principal_cache.clear()
    _principal_cache[key] = (time.monotonic() + PRINCIPAL_CACHE_SECONDS, expires_at, principal)


def invalidate_principal_cache() -> None:
    _principal_cache.clear()


async def revoke_api_token(session: AsyncSession, *, token_id: int, user_id: int | None = None) -> None:
    stmt = update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    result = await session.execute(stmt.values(revoked_at=clock.now()))
    invalidate_principal_cache()
    if result.rowcount == 0:
        raise NotFound(f"active token {token_id} not found")


async def list_api_tokens(session: AsyncSession, *, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id)
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list((await session.scalars(stmt)).all())


# --- browser sessions ------------------------------------------------------------------------------

async def start_web_session(session: AsyncSession, *, user: User, max_age_s: int) -> str:
    plain = secrets.token_urlsafe(32)
    now = clock.now()
    session.add(WebSession(token_hash=sha256_hex(plain), user_id=user.id, created_at=now,
                           expires_at=now + timedelta(seconds=max_age_s)))
    await session.execute(delete(WebSession).where(WebSession.expires_at < now))
    await session.flush()
    return plain


async def principal_from_web_session(session: AsyncSession, plain: str) -> Principal | None:
    key = "s:" + sha256_hex(plain)
    cached = _cache_get(key)
    if cached is not None:
        return cached
    row = (
        await session.execute(
            select(User.id, User.email, User.role, User.locale, User.is_active, WebSession.expires_at)
            .join(User, User.id == WebSession.user_id)
            .where(WebSession.token_hash == key[2:])
        )
    ).first()
    if row is None:
        return None
    user_id, email, role, locale, is_active, expires_at = row
    if expires_at <= clock.now() or not is_active:
        return None
    principal = await _build_principal(session, user_id=user_id, email=email, role=role, locale=locale,
                                       token_id=None)
    _cache_put(key, principal, expires_at)
    return principal


async def end_web_session(session: AsyncSession, plain: str) -> None:
    await session.execute(delete(WebSession).where(WebSession.token_hash == sha256_hex(plain)))
    invalidate_principal_cache()


# --- who is told ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffContact:
    user_id: int
    email: str
    full_name: str
    locale: str


async def staff_to_alert(session: AsyncSession, location_id: int | None, *,
                         roles: tuple[Role, ...] = (Role.MANAGER,)) -> list[StaffContact]:
    """The active users of ``roles`` responsible for a location: those whose location scope includes it and
    those with no location scope (every location). ``location_id=None``: only the unrestricted ones."""
    linked = select(UserLocation.location_id).where(UserLocation.user_id == User.id)
    responsible = ~linked.exists()
    if location_id is not None:
        responsible = or_(responsible, linked.where(UserLocation.location_id == location_id).exists())
    rows = (await session.execute(
        select(User.id, User.email, User.full_name, User.locale)
        .where(User.role.in_([r.value for r in roles]), User.is_active.is_(True), responsible)
        .order_by(User.id))).all()
    return [StaffContact(r.id, r.email, r.full_name or "", r.locale or "en") for r in rows]


# --- audit log -------------------------------------------------------------------------------------

async def record_audit(
    session: AsyncSession, *, actor: Principal, action: str, entity: str | None = None,
    entity_id: Any = None, data: dict[str, Any] | None = None,
) -> None:
    await session.execute(_INSERT_AUDIT, {
        "at": clock.now(), "actor_user_id": actor.user_id, "actor_label": actor.label, "action": action,
        "entity": entity, "entity_id": None if entity_id is None else str(entity_id), "data": data or {}})


_INSERT_AUDIT = insert(AuditEvent.__table__)  # built once: every write request records one
_PENDING_AUDIT = "omniretail.pending_audit"


@dataclass
class PendingAudit:
    """The audit entry a write request will record once it succeeds. A hot path that writes everything in one
    statement may write the entry in that statement (:meth:`row`, then :meth:`taken`), so no other round trip
    is needed for it; otherwise the request records it when the endpoint is done."""

    actor: Principal
    action: str
    entity: str | None
    data: dict[str, Any]
    status: int = 200  # what the endpoint answers when it succeeds
    written: bool = False

    def row(self, *, entity_id: Any) -> dict[str, Any]:
        return {"at": clock.now(), "actor_user_id": self.actor.user_id, "actor_label": self.actor.label,
                "action": self.action, "entity": self.entity,
                "entity_id": None if entity_id is None else str(entity_id), "data": {**self.data, "status": self.status}}

    def taken(self) -> None:
        self.written = True


def expect_audit(session: AsyncSession, audit: PendingAudit) -> None:
    session.info[_PENDING_AUDIT] = audit


def pending_audit(session: AsyncSession) -> PendingAudit | None:
    """The request's audit entry if it is still to be written."""
    audit = session.info.get(_PENDING_AUDIT)
    return audit if audit is not None and not audit.written else None


async def list_audit(
    session: AsyncSession, *, entity: str | None, entity_id: str | None, actor_user_id: int | None,
    cursor: str | None, limit: int, action: str | None = None, actor: str | None = None,
    since: datetime | None = None, until: datetime | None = None,
):
    """Audit rows, newest first; ``action`` matches its start (route names: ``cancel_order``), ``actor`` the
    actor's label (part of it), ``since`` ≤ at < ``until``."""
    stmt = select(AuditEvent)
    if action:
        stmt = stmt.where(AuditEvent.action.startswith(action, autoescape=True))
    if actor:
        stmt = stmt.where(func.lower(AuditEvent.actor_label).contains(actor.strip().lower(), autoescape=True))
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    if entity:
        stmt = stmt.where(AuditEvent.entity == entity)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor_user_id:
        stmt = stmt.where(AuditEvent.actor_user_id == actor_user_id)
    return await paginate(
        session, stmt, id_column=AuditEvent.id, sort=SortSpec({"id": AuditEvent.id}, default="-id"),
        sort_value="-id", cursor=cursor, limit=limit,
    )
