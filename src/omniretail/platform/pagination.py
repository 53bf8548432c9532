"""Cursor (keyset) pagination: stable under inserts, cost independent of the page number."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession

from .errors import InvalidInput

T = TypeVar("T")

MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(values, default=str)).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded))
    except Exception as exc:
        raise InvalidInput("invalid cursor", field="cursor") from exc
    if not isinstance(value, list) or len(value) != 2:
        raise InvalidInput("invalid cursor", field="cursor")
    return value


@dataclass
class SortSpec:
    """A sortable column exposed under a public name, ``-name`` for descending."""

    columns: dict[str, Any]
    default: str = "id"

    def resolve(self, sort: str | None) -> tuple[str, Any, bool]:
        sort = sort or self.default
        descending = sort.startswith("-")
        name = sort.lstrip("-")
        if name not in self.columns:
            raise InvalidInput(
                f"cannot sort by {name!r}", field="sort", allowed=sorted(self.columns)
            )
        return name, self.columns[name], descending


async def paginate(
    session: AsyncSession,
    stmt: Select,
    *,
    id_column: Any,
    sort: SortSpec,
    sort_value: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """Run ``stmt`` (selecting one entity) one page at a time, ordered by (sort column, id)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    name, column, descending = sort.resolve(sort_value)
    if cursor:
        last_value, last_id = decode_cursor(cursor)
        if column is id_column:
            stmt = stmt.where(id_column < last_id if descending else id_column > last_id)
        elif descending:
            stmt = stmt.where(or_(column < last_value, and_(column == last_value, id_column < last_id)))
        else:
            stmt = stmt.where(or_(column > last_value, and_(column == last_value, id_column > last_id)))
    order = [column.desc(), id_column.desc()] if descending else [column.asc(), id_column.asc()]
    if column is id_column:
        order = order[:1]
    rows = list((await session.scalars(stmt.order_by(*order).limit(limit + 1))).all())
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        key = column.key if hasattr(column, "key") else name
        next_cursor = encode_cursor([getattr(last, key), last.id])
    return rows, next_cursor
