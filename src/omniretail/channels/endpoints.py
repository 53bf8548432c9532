from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from omniretail.api.deps import ListParamsDep, SessionDep, SettingsDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.platform.pagination import Page

from . import service
from .schemas import ChannelCreate, ChannelKind, ChannelRead, ChannelUpdate

router = APIRouter(prefix="/channels", tags=["channels"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("channels:read")]
Writer = Annotated[Principal, require("channels:write")]


@router.get("", summary="List channels you may see")
async def list_channels(
    session: SessionDep, settings: SettingsDep, principal: Reader, params: ListParamsDep,
    kind: ChannelKind | None = None,
    q: Annotated[str | None, Query(description="Search name or code")] = None,
) -> Page[ChannelRead]:
    rows, next_cursor = await service.list_channels(
        session, principal=principal, kind=kind, q=q, cursor=params.cursor, limit=params.limit,
        sort=params.sort,
    )
    items = await service.to_read(session, rows, secret_key=settings.resolved_secret_key())
    return Page(items=items, next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a channel",
             description="`secrets` are stored encrypted and never returned; setting them needs "
                         "channels:secrets.")
async def create_channel(
    session: SessionDep, settings: SettingsDep, principal: Writer, data: ChannelCreate
) -> ChannelRead:
    key = settings.resolved_secret_key()
    channel = await service.create_channel(session, data=data, principal=principal, secret_key=key)
    return (await service.to_read(session, [channel], secret_key=key))[0]


@router.get("/by-ref/{source}/{reference}", summary="Fetch a channel by an external system's reference")
async def channel_by_reference(
    session: SessionDep, settings: SettingsDep, principal: Reader, source: str, reference: str
) -> ChannelRead:
    channel = await service.channel_by_reference(session, source=source, reference=reference,
                                                 principal=principal)
    return (await service.to_read(session, [channel], secret_key=settings.resolved_secret_key()))[0]


@router.get("/{channel_id}", summary="Fetch a channel")
async def get_channel(
    session: SessionDep, settings: SettingsDep, principal: Reader, channel_id: int
) -> ChannelRead:
    channel = await service.get_channel(session, channel_id, principal=principal)
    return (await service.to_read(session, [channel], secret_key=settings.resolved_secret_key()))[0]


@router.patch("/{channel_id}", summary="Update a channel",
              description="`secrets` sets the named secrets and removes those sent as null; others are kept.")
async def update_channel(
    session: SessionDep, settings: SettingsDep, principal: Writer, channel_id: int, data: ChannelUpdate
) -> ChannelRead:
    key = settings.resolved_secret_key()
    channel = await service.update_channel(session, channel_id, data=data, principal=principal,
                                           secret_key=key)
    return (await service.to_read(session, [channel], secret_key=key))[0]
