"""Connectors per channel, built from the channel record and kept while the record does not change.

A handle is rebuilt when the channel's ``updated_at`` moves (settings, secrets, kind changed) and re-checked
every few seconds; its rate limiter (and so the in-process token bucket state) lives as long as the handle.
One ``httpx.AsyncClient`` (connection pooling, HTTP keep-alive) serves every channel; tests hand in their own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import text

from omniretail.channels import service as channels_service
from omniretail.platform.db import Database, unit_of_work
from omniretail.platform.models import JSONType, UTCDateTime

from ..connectors import connector_class, connector_name
from ..connectors.base import ChannelConfig, Connector
from .ratelimit import Limiter, limiter_for

RECHECK_S = 5.0
_CHANNEL = text(
    "SELECT id, code, kind, currency, locale, settings, is_active, updated_at FROM channel WHERE id = :id"
).columns(settings=JSONType, updated_at=UTCDateTime())
_CHANNELS = text("SELECT id, kind, settings, is_active FROM channel").columns(settings=JSONType)


@dataclass
class ChannelSecretStore:
    """Where a connector stores rotated credentials: the channel's encrypted secrets, one row lock at a time."""

    db: Database
    channel_id: int
    secret_key: str

    async def update(self, change):
        async with unit_of_work(self.db) as session:
            return await channels_service.update_channel_secrets(session, self.channel_id, change,
                                                                 secret_key=self.secret_key)


@dataclass
class ChannelHandle:
    config: ChannelConfig
    connector: Connector
    limiter: Limiter
    updated_at: datetime
    checked: float

    @property
    def id(self) -> int:
        return self.config.id

    @property
    def code(self) -> str:
        return self.config.code


class Connections:
    def __init__(self, db: Database, *, secret_key: str, http: httpx.AsyncClient | None = None) -> None:
        self.db = db
        self.secret_key = secret_key
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(limits=httpx.Limits(max_connections=200, max_keepalive_connections=50))
        self.handles: dict[int, ChannelHandle] = {}

    async def close(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def connected_channel_ids(self) -> list[int]:
        """Active channels that have a connector."""
        async with unit_of_work(self.db, readonly=True) as session:
            rows = (await session.execute(_CHANNELS)).all()
        return [r.id for r in rows if r.is_active and connector_name(r.kind, r.settings)]

    async def get(self, channel_id: int) -> ChannelHandle | None:
        """The channel's handle, or None when it is inactive, gone, or has no connector."""
        handle = self.handles.get(channel_id)
        if handle is not None and time.monotonic() - handle.checked < RECHECK_S:
            return handle
        async with unit_of_work(self.db, readonly=True) as session:
            row = (await session.execute(_CHANNEL, {"id": channel_id})).first()
            name = connector_name(row.kind, row.settings) if row is not None else None
            if row is None or not row.is_active or name is None:
                self.handles.pop(channel_id, None)
                return None
            if handle is not None and handle.updated_at == row.updated_at:
                handle.checked = time.monotonic()
                return handle
            try:
                secrets = await channels_service.channel_secrets(session, channel_id, secret_key=self.secret_key)
            except ValueError:  # encrypted with another instance secret: the connector reports the missing one
                secrets = {}
        config = ChannelConfig(id=row.id, code=row.code, kind=row.kind, currency=row.currency, locale=row.locale,
                               settings=dict(row.settings or {}), secrets=secrets)
        cls = connector_class(name)
        limiter = limiter_for(self.db, row.id, cls.limits_for(config.settings))
        connector = cls(config, http=self.http, limiter=limiter,
                        secret_store=ChannelSecretStore(self.db, row.id, self.secret_key))
        handle = ChannelHandle(config, connector, limiter, row.updated_at, time.monotonic())
        self.handles[channel_id] = handle
        return handle
