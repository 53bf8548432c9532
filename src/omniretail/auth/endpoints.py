"""Users, their API tokens and the audit log over HTTP.

Managing users needs ``users:manage``; only an owner may create, change or mint tokens for an owner. Anyone
signed in may read their own profile and list, create and revoke their own tokens.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.api.deps import CurrentPrincipal, ListParamsDep, SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.channels import service as channels_service
from omniretail.locations import service as locations_service
from omniretail.platform import clock
from omniretail.platform.errors import InvalidInput, NotFound, PermissionDenied
from omniretail.platform.pagination import Page

from . import service
from .models import ApiToken, User
from .schemas import (
    AuditEventRead,
    Principal,
    Role,
    TokenCreate,
    TokenCreated,
    TokenRead,
    UserCreate,
    UserRead,
    UserUpdate,
)

router = APIRouter(tags=["users"], route_class=TransactionalRoute)

UserManager = Annotated[Principal, require("users:manage")]
AuditReader = Annotated[Principal, require("audit:read")]


class ProfileRead(UserRead):
    permissions: list[str]
    token_id: int | None = None


def _guard_owner(principal: Principal, *, target_role: str | None = None,
                 new_role: Role | None = None) -> None:
    if principal.role is Role.OWNER:
        return
    if target_role == Role.OWNER or new_role is Role.OWNER:
        raise PermissionDenied("only an owner may manage an owner account")


async def _check_scope_ids(session: AsyncSession, location_ids: list[int] | None,
                           channel_ids: list[int] | None) -> None:
    if location_ids:
        missing = sorted(set(location_ids) - await locations_service.all_location_ids(session))
        if missing:
            raise InvalidInput(f"unknown location(s): {missing}", field="location_ids", missing=missing)
    if channel_ids:
        missing = sorted(set(channel_ids) - await channels_service.all_channel_ids(session))
        if missing:
            raise InvalidInput(f"unknown channel(s): {missing}", field="channel_ids", missing=missing)


async def _user_for_self_or_manager(session: AsyncSession, principal: Principal, user_id: int) -> User:
    if principal.user_id != user_id and not principal.can("users:manage"):
        raise PermissionDenied("you may only see your own account and tokens", permission="users:manage")
    return await service.get_user(session, user_id)


@router.get("/users", summary="List users")
async def list_users(session: SessionDep, principal: UserManager, params: ListParamsDep) -> Page[UserRead]:
    rows, next_cursor = await service.list_users(session, cursor=params.cursor, limit=params.limit,
                                                 sort=params.sort)
    return Page(items=[service.user_read(u) for u in rows], next_cursor=next_cursor)


@router.post("/users", status_code=status.HTTP_201_CREATED, summary="Create a user")
async def create_user(session: SessionDep, principal: UserManager, data: UserCreate) -> UserRead:
    _guard_owner(principal, new_role=data.role)
    await _check_scope_ids(session, data.location_ids, data.channel_ids)
    return service.user_read(await service.create_user(session, data=data))


@router.get("/users/me", summary="Your own profile: role, locations, channels and permissions")
async def my_profile(session: SessionDep, principal: CurrentPrincipal) -> ProfileRead:
    if principal.user_id is None:
        raise NotFound("this principal has no user account")
    user = await service.get_user(session, principal.user_id)
    return ProfileRead(**service.user_read(user).model_dump(), permissions=sorted(principal.permissions),
                       token_id=principal.token_id)


@router.get("/users/{user_id}", summary="Fetch a user (yourself, or anyone with users:manage)")
async def get_user(session: SessionDep, principal: CurrentPrincipal, user_id: int) -> UserRead:
    return service.user_read(await _user_for_self_or_manager(session, principal, user_id))


@router.patch("/users/{user_id}", summary="Update a user")
async def update_user(
    session: SessionDep, principal: UserManager, user_id: int, data: UserUpdate
) -> UserRead:
    target = await service.get_user(session, user_id)
    _guard_owner(principal, target_role=target.role, new_role=data.role)
    if target.id == principal.user_id and (
        (data.role is not None and data.role != target.role) or data.is_active is False
    ):
        raise InvalidInput("you cannot change the role of, or deactivate, your own account", field="role")
    await _check_scope_ids(session, data.location_ids, data.channel_ids)
    return service.user_read(await service.update_user(session, user_id, data=data))


@router.get("/users/{user_id}/tokens", summary="List a user's API tokens (never their values)")
async def list_tokens(session: SessionDep, principal: CurrentPrincipal, user_id: int) -> list[TokenRead]:
    user = await _user_for_self_or_manager(session, principal, user_id)
    return [TokenRead.model_validate(t) for t in await service.list_api_tokens(session, user_id=user.id)]


@router.post("/users/{user_id}/tokens", status_code=status.HTTP_201_CREATED,
             summary="Create an API token; its value is shown once",
             description="Idempotency-Key is refused here: replaying would require storing the token value.")
async def create_token(
    session: SessionDep, principal: CurrentPrincipal, user_id: int, data: TokenCreate,
    idempotency_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> TokenCreated:
    if idempotency_key is not None:
        raise InvalidInput("Idempotency-Key is not accepted when creating a token (its value is shown once)",
                           field="Idempotency-Key")
    user = await _user_for_self_or_manager(session, principal, user_id)
    if user.id != principal.user_id:
        _guard_owner(principal, target_role=user.role)
    expires_at = data.expires_at
    if expires_at is not None:
        expires_at = expires_at.replace(tzinfo=UTC) if expires_at.tzinfo is None else expires_at
        if expires_at <= clock.now():
            raise InvalidInput("expires_at must be in the future", field="expires_at")
    token, plain = await service.create_api_token(session, user_id=user.id, name=data.name,
                                                  expires_at=expires_at)
    return TokenCreated(**TokenRead.model_validate(token).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, summary="Revoke an API token")
async def revoke_token(session: SessionDep, principal: CurrentPrincipal, token_id: int) -> Response:
    token = await session.get(ApiToken, token_id)
    if token is None or (token.user_id != principal.user_id and not principal.can("users:manage")):
        raise NotFound(f"active token {token_id} not found")
    if token.user_id != principal.user_id:
        _guard_owner(principal, target_role=(await service.get_user(session, token.user_id)).role)
    await service.revoke_api_token(session, token_id=token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/audit-events", summary="The audit log, newest first")
async def list_audit_events(
    session: SessionDep, principal: AuditReader, params: ListParamsDep,
    entity: Annotated[str | None, Query(description="e.g. channels, price_lists, users")] = None,
    entity_id: str | None = None, actor_user_id: int | None = None,
) -> Page[AuditEventRead]:
    rows, next_cursor = await service.list_audit(session, entity=entity, entity_id=entity_id,
                                                 actor_user_id=actor_user_id, cursor=params.cursor,
                                                 limit=params.limit)
    return Page(items=[AuditEventRead.model_validate(e) for e in rows], next_cursor=next_cursor)
