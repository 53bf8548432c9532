"""Idempotency keys for POST requests: the first request's response is stored in the same transaction as
its effects; a retry with the same key and the same body gets that response back, a different body is an
error, and a concurrent duplicate waits on the key row (PostgreSQL) or the writer lock (SQLite)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Integer, String, UniqueConstraint, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .errors import IdempotencyInProgress, IdempotencyKeyReused
from .models import Base, IdMixin, JSONType, UTCDateTime

MAX_KEY_LENGTH = 200


class IdempotencyRecord(IdMixin, Base):
    __tablename__ = "idempotency_key"

    principal: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(MAX_KEY_LENGTH))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[Any | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("principal", "key"),)


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same" for a key: method, path and body — a JSON body by its content, not its
    bytes (a client that re-serialises its retry with other spacing or key order sends the same request)."""
    h = hashlib.sha256()
    h.update(method.encode())
    h.update(b" ")
    h.update(path.encode())
    h.update(b"\n")
    h.update(_canonical(body))
    return h.hexdigest()


def _canonical(body: bytes) -> bytes:
    if not body or body[:1] not in b"{[":
        return body
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        return body


async def claim_key(
    session: AsyncSession, *, principal: str, key: str, request_hash: str
) -> tuple[int, Any] | None:
    """Claim ``key`` for this request inside the current transaction.

    Returns ``None`` when the key is new (go ahead, then call :func:`store_response`), or the stored
    ``(status, body)`` to replay.
    """
    dialect = session.bind.dialect.name if session.bind else "postgresql"
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        ins(IdempotencyRecord)
        .values(principal=principal, key=key, request_hash=request_hash, created_at=clock.now())
        .on_conflict_do_nothing(index_elements=["principal", "key"])
        .returning(IdempotencyRecord.id)
    )
    inserted = (await session.execute(stmt)).scalar_one_or_none()
    if inserted is not None:
        return None
    row = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        )
    ).scalar_one()
    if row.request_hash != request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different request", idempotency_key=key
        )
    if row.status_code is None:
        raise IdempotencyInProgress(idempotency_key=key)
    return row.status_code, row.response_body


async def store_response(
    session: AsyncSession, *, principal: str, key: str, status_code: int, body: Any
) -> None:
    row = (
        await session.execute(
            select(IdempotencyRecord).where(
                IdempotencyRecord.principal == principal, IdempotencyRecord.key == key
            )
        )
    ).scalar_one()
    row.status_code = status_code
    row.response_body = body
    await session.flush()
