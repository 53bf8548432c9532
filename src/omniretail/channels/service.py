"""Channels: create, update, list (scoped to the caller), and the encrypted secrets connectors read.

Secrets are one Fernet-encrypted JSON object per channel. They leave this module only through
:func:`channel_secrets`, which connectors call in-process; the API shows their names, never their values.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.locations import service as locations_service
from omniretail.platform import external_refs
from omniretail.platform.crypto import decrypt_text, encrypt_text
from omniretail.platform.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied
from omniretail.platform.outbox import append_event
from omniretail.platform.pagination import SortSpec, paginate

from .models import Channel, ChannelLocation
from .schemas import ChannelCreate, ChannelKind, ChannelLocale, ChannelRead, ChannelUpdate
from .settings import check_amounts

SORTS = SortSpec({"id": Channel.id, "code": Channel.code, "name": Channel.name})
CHANGED_TOPIC = "channels.channel.changed"


# --- who sees what ---------------------------------------------------------------------------------

async def visible_channel_ids(session: AsyncSession, principal: Principal) -> frozenset[int] | None:
    """The channels a principal may see: an integration its own, a store associate those its stores fulfil;
    ``None`` means every channel."""
    if principal.channel_ids is not None:
        return principal.channel_ids
    if principal.location_ids is not None:
        rows = await session.scalars(
            select(ChannelLocation.channel_id).where(ChannelLocation.location_id.in_(principal.location_ids))
            .distinct()
        )
        return frozenset(rows.all())
    return None


async def get_channel(session: AsyncSession, channel_id: int, *, principal: Principal) -> Channel:
    """A channel the principal may see; others are reported as not found (no existence leak)."""
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} not found")
    visible = await visible_channel_ids(session, principal)
    if visible is not None and channel.id not in visible:
        raise NotFound(f"channel {channel_id} not found")
    return channel


async def get_channel_by_code(session: AsyncSession, code: str) -> Channel | None:
    return (await session.execute(select(Channel).where(Channel.code == code))).scalar_one_or_none()


# --- secrets ---------------------------------------------------------------------------------------

def _decrypt(channel: Channel, secret_key: str) -> dict[str, str]:
    if not channel.secrets_encrypted:
        return {}
    return orjson.loads(decrypt_text(secret_key, channel.secrets_encrypted))


def _encrypt(channel: Channel, secrets: dict[str, str], secret_key: str) -> None:
    channel.secrets_encrypted = (
        encrypt_text(secret_key, orjson.dumps(dict(sorted(secrets.items()))).decode()) if secrets else None
    )


async def channel_secrets(session: AsyncSession, channel_id: int, *, secret_key: str) -> dict[str, str]:
    """The decrypted secrets of a channel, for its connector. Not exposed over HTTP.

    Raises ``ValueError`` when they were encrypted with another instance secret.
    """
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"channel {channel_id} not found")
    return _decrypt(channel, secret_key)


async def update_channel_secrets(session: AsyncSession, channel_id: int, change, *, secret_key: str
                                 ) -> dict[str, str]:
    """Rotate credentials a connector owns (an OAuth token pair): lock the channel row (PostgreSQL: ``FOR
    UPDATE``; SQLite: the writer slot the session holds), run ``await change(current secrets)`` and store what it
    returns, encrypted; None keeps them. Not a settings change: ``updated_at`` stays (connectors in other workers
    pick the new pair up when their own token fails or is due) and no event is written. Returns the secrets as
    stored."""
    stmt = select(Channel).where(Channel.id == channel_id)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    channel = (await session.execute(stmt)).scalar_one_or_none()
    if channel is None:
        raise NotFound(f"channel {channel_id} not found")
    current = _decrypt(channel, secret_key)
    new = await change(dict(current))
    if new is None or new == current:
        return current
    _encrypt(channel, new, secret_key)
    await session.flush()
    return new


def _secret_names(channel: Channel, secret_key: str) -> tuple[list[str], bool]:
    try:
        return sorted(_decrypt(channel, secret_key)), True
    except ValueError:
        return [], False


# --- reading ---------------------------------------------------------------------------------------

async def to_read(session: AsyncSession, channels: list[Channel], *, secret_key: str) -> list[ChannelRead]:
    refs = await external_refs.references_of(session, entity="channel", entity_ids=[c.id for c in channels])
    out = []
    for ch in channels:
        names, readable = _secret_names(ch, secret_key)
        out.append(ChannelRead(
            id=ch.id, code=ch.code, name=ch.name, kind=ChannelKind(ch.kind), currency=ch.currency,
            locale=ChannelLocale(ch.locale), prices_include_tax=ch.prices_include_tax, is_active=ch.is_active,
            location_ids=[link.location_id for link in sorted(ch.locations, key=lambda x: x.priority)],
            settings=ch.settings or {}, secret_keys=names, secrets_readable=readable,
            stock_policy=ch.stock_policy or {}, external_refs=refs.get(ch.id, {}),
            created_at=ch.created_at, updated_at=ch.updated_at,
        ))
    return out


async def list_channels(
    session: AsyncSession, *, principal: Principal, kind: ChannelKind | None = None, q: str | None = None,
    cursor: str | None = None, limit: int = 50, sort: str | None = None,
) -> tuple[list[Channel], str | None]:
    stmt = select(Channel)
    visible = await visible_channel_ids(session, principal)
    if visible is not None:
        stmt = stmt.where(Channel.id.in_(visible))
    if kind:
        stmt = stmt.where(Channel.kind == kind.value)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Channel.name).like(like), func.lower(Channel.code).like(like)))
    return await paginate(session, stmt, id_column=Channel.id, sort=SORTS, sort_value=sort, cursor=cursor,
                          limit=limit)


async def channel_by_reference(session: AsyncSession, *, source: str, reference: str,
                               principal: Principal) -> Channel:
    channel_id = await external_refs.require_entity_id(session, entity="channel", source=source,
                                                       reference=reference)
    return await get_channel(session, channel_id, principal=principal)


# --- writing ---------------------------------------------------------------------------------------

async def _check_locations(session: AsyncSession, location_ids: list[int]) -> None:
    missing = sorted(set(location_ids) - await locations_service.all_location_ids(session))
    if missing:
        raise InvalidInput(f"unknown location(s): {', '.join(map(str, missing))}", field="location_ids",
                           missing=missing)


def _set_locations(channel: Channel, location_ids: list[int]) -> None:
    """Replace the fulfilling locations (first = preferred), reusing existing link rows: deleting and
    re-inserting the same (channel, location) key in one flush would clash."""
    existing = {link.location_id: link for link in channel.locations}
    links = []
    for priority, location_id in enumerate(location_ids):
        link = existing.get(location_id) or ChannelLocation(location_id=location_id)
        link.priority = priority
        links.append(link)
    channel.locations = links


def _check_may_set_secrets(principal: Principal, secrets: dict[str, Any] | None) -> None:
    if secrets and not principal.can("channels:secrets"):
        raise PermissionDenied(f"your role ({principal.role}) may not set channel secrets",
                               permission="channels:secrets")


async def _changed(
    session: AsyncSession, channel: Channel, fields: list[str], secret_names: list[str]
) -> None:
    await append_event(session, CHANGED_TOPIC, {
        "channel_id": channel.id, "code": channel.code, "changed": sorted(fields),
        "secret_keys_changed": sorted(secret_names),
    }, coalesce_key=f"channel:{channel.id}")


async def create_channel(
    session: AsyncSession, *, data: ChannelCreate, principal: Principal, secret_key: str
) -> Channel:
    if principal.channel_ids is not None:
        raise PermissionDenied("an integration account may not create channels")
    _check_may_set_secrets(principal, data.secrets)
    if await get_channel_by_code(session, data.code):
        raise AlreadyExists(f"channel code {data.code!r} is taken", field="code")
    await _check_locations(session, data.location_ids)
    check_amounts(data.settings, data.currency)  # the schema checked each setting; this, against the currency
    channel = Channel(
        code=data.code, name=data.name, kind=data.kind.value, currency=data.currency,
        locale=data.locale.value, prices_include_tax=data.prices_include_tax, is_active=data.is_active,
        settings=data.settings, stock_policy=data.stock_policy, locations=[],
    )
    _set_locations(channel, data.location_ids)
    _encrypt(channel, data.secrets, secret_key)
    session.add(channel)
    await session.flush()
    for source, ref in data.external_refs.items():
        await external_refs.set_reference(session, entity="channel", entity_id=channel.id, source=source,
                                          reference=ref)
    await _changed(session, channel, ["created"], list(data.secrets))
    return channel


async def update_channel(
    session: AsyncSession, channel_id: int, *, data: ChannelUpdate, principal: Principal, secret_key: str
) -> Channel:
    channel = await get_channel(session, channel_id, principal=principal)
    _check_may_set_secrets(principal, data.secrets)
    changes = data.model_dump(mode="json", exclude_unset=True,
                              exclude={"location_ids", "secrets", "external_refs"})
    new_code = changes.get("code")
    if new_code not in (None, channel.code) and await get_channel_by_code(session, new_code):
        raise AlreadyExists(f"channel code {new_code!r} is taken", field="code")
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(f"{name} cannot be null", field=name)
    if "settings" in changes or "currency" in changes:
        check_amounts(changes.get("settings", channel.settings), changes.get("currency", channel.currency))
    for name, value in changes.items():
        setattr(channel, name, value)
    fields = list(changes)
    if data.location_ids is not None:
        await _check_locations(session, data.location_ids)
        _set_locations(channel, data.location_ids)
        fields.append("location_ids")
    if data.secrets:
        try:
            secrets = _decrypt(channel, secret_key)
        except ValueError:
            # Unreadable with this instance's key (the API shows no secret names): start afresh.
            secrets = {}
        for name, value in data.secrets.items():
            if value is None:
                secrets.pop(name, None)
            else:
                secrets[name] = value
        _encrypt(channel, secrets, secret_key)
        fields.append("secrets")
    for source, ref in (data.external_refs or {}).items():
        await external_refs.set_reference(session, entity="channel", entity_id=channel.id, source=source,
                                          reference=ref)
    await session.flush()
    await session.refresh(channel)
    await _changed(session, channel, fields, list(data.secrets or {}))
    return channel


async def all_channel_ids(session: AsyncSession) -> set[int]:
    return set((await session.scalars(select(Channel.id))).all())


async def count_channels(session: AsyncSession, *, principal: Principal) -> int:
    """How many channels the principal may see."""
    stmt = select(func.count()).select_from(Channel)
    visible = await visible_channel_ids(session, principal)
    if visible is not None:
        stmt = stmt.where(Channel.id.in_(visible))
    return int(await session.scalar(stmt) or 0)
