"""External references: the ids an outside system (ERP, marketplace, PIM) uses for our records.

One table for every kind of record; a reference is unique per (entity, source), and a record has at most one
reference per source.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, String, UniqueConstraint, delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from .errors import AlreadyExists, NotFound
from .models import Base, IdMixin

ENTITIES = ("product", "variant", "location", "channel", "customer", "order", "price_list")


class ExternalReference(IdMixin, Base):
    __tablename__ = "external_reference"

    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(60))
    reference: Mapped[str] = mapped_column(String(200))

    __table_args__ = (
        UniqueConstraint("entity", "source", "reference"),
        UniqueConstraint("entity", "entity_id", "source"),
    )


async def set_reference(
    session: AsyncSession, *, entity: str, entity_id: int, source: str, reference: str | None
) -> None:
    """Attach (or with ``None`` detach) the reference ``source`` uses for a record."""
    current = (
        await session.execute(
            select(ExternalReference).where(
                ExternalReference.entity == entity,
                ExternalReference.entity_id == entity_id,
                ExternalReference.source == source,
            )
        )
    ).scalar_one_or_none()
    if reference is None:
        if current is not None:
            await session.execute(delete(ExternalReference).where(ExternalReference.id == current.id))
        return
    owner = await find_entity_id(session, entity=entity, source=source, reference=reference)
    if owner is not None and owner != entity_id:
        raise AlreadyExists(
            f"{source} reference {reference!r} already belongs to another {entity}",
            entity=entity, source=source, reference=reference, existing_id=owner,
        )
    if current is None:
        session.add(ExternalReference(entity=entity, entity_id=entity_id, source=source, reference=reference))
    else:
        current.reference = reference
    await session.flush()


async def find_entity_id(session: AsyncSession, *, entity: str, source: str, reference: str) -> int | None:
    return (
        await session.execute(
            select(ExternalReference.entity_id).where(
                ExternalReference.entity == entity,
                ExternalReference.source == source,
                ExternalReference.reference == reference,
            )
        )
    ).scalar_one_or_none()


async def require_entity_id(session: AsyncSession, *, entity: str, source: str, reference: str) -> int:
    found = await find_entity_id(session, entity=entity, source=source, reference=reference)
    if found is None:
        raise NotFound(f"no {entity} with {source} reference {reference!r}", source=source, reference=reference)
    return found


async def references_of(session: AsyncSession, *, entity: str, entity_ids: list[int]) -> dict[int, dict[str, str]]:
    if not entity_ids:
        return {}
    rows = await session.execute(
        select(ExternalReference.entity_id, ExternalReference.source, ExternalReference.reference).where(
            ExternalReference.entity == entity, ExternalReference.entity_id.in_(entity_ids)
        )
    )
    out: dict[int, dict[str, str]] = {}
    for entity_id, source, reference in rows:
        out.setdefault(entity_id, {})[source] = reference
    return out
