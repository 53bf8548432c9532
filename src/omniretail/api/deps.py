"""Annotated dependencies shared by every router."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform.config import Settings
from omniretail.platform.errors import NotAuthenticated, PermissionDenied

# Dependencies are ``async def``: FastAPI runs a plain ``def`` dependency in its thread pool, a thread hop per
# dependency per request for what is an attribute read.

async def get_session(request: Request) -> AsyncSession:
    return request.state.session


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise NotAuthenticated()
    return principal


SessionDep = Annotated[AsyncSession, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: str):
    """A dependency that returns the principal if it holds ``permission``."""

    async def check(request: Request) -> Principal:  # reads the principal itself: one dependency level less
        return authorised(request, permission)

    check.permission = permission  # read by the direct dispatch (api/direct.py)
    return Depends(check)


def authorised(request: Request, permission: str, *, doing: str | None = None) -> Principal:
    """The caller, if it holds ``permission`` (401 when nobody is signed in, 403 when the role lacks it;
    ``doing`` names what was refused, by default the permission)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        raise NotAuthenticated()
    if not principal.can(permission):
        raise PermissionDenied(f"your role ({principal.role}) may not {doing or f'do this ({permission})'}",
                               permission=permission)
    return principal


class ListParams:
    def __init__(self, cursor: str | None = None, limit: int = 50, sort: str | None = None) -> None:
        self.cursor = cursor
        self.limit = limit
        self.sort = sort


async def list_params(
    cursor: Annotated[str | None, Query(description="Opaque cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    sort: Annotated[str | None, Query(description="Field to sort by; prefix with - for descending")] = None,
) -> ListParams:
    return ListParams(cursor, limit, sort)


ListParamsDep = Annotated[ListParams, Depends(list_params)]
