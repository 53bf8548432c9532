"""Locations: create, update, list (scoped to what the principal may see)."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.platform import external_refs
from omniretail.platform.errors import AlreadyExists, InvalidInput, NotFound
from omniretail.platform.pagination import SortSpec, paginate

from .models import Location
from .schemas import Capabilities, LocationCreate, LocationKind, LocationRead, LocationUpdate

CAPABILITY_FIELDS = tuple(Capabilities.model_fields)
SORTS = SortSpec({"id": Location.id, "code": Location.code, "name": Location.name})


def _visible(principal: Principal):
    stmt = select(Location)
    if principal.location_ids is not None:
        stmt = stmt.where(Location.id.in_(principal.location_ids))
    return stmt


async def to_read(session: AsyncSession, locations: list[Location]) -> list[LocationRead]:
    refs = await external_refs.references_of(session, entity="location", entity_ids=[x.id for x in locations])
    return [
        LocationRead(
            id=loc.id, code=loc.code, name=loc.name, kind=LocationKind(loc.kind), street=loc.street,
            postal_code=loc.postal_code, city=loc.city, country=loc.country, latitude=loc.latitude,
            longitude=loc.longitude, timezone=loc.timezone, phone=loc.phone, email=loc.email,
            opening_hours=loc.opening_hours or {},
            capabilities=Capabilities(**{f: getattr(loc, f) for f in CAPABILITY_FIELDS}),
            daily_capacity=loc.daily_capacity, is_active=loc.is_active, external_refs=refs.get(loc.id, {}),
            created_at=loc.created_at, updated_at=loc.updated_at,
        )
        for loc in locations
    ]


async def get_location(session: AsyncSession, location_id: int, *, principal: Principal) -> Location:
    """A location the principal may see; others are reported as not found (no existence leak)."""
    loc = await session.get(Location, location_id)
    if loc is None or not principal.sees_location(loc.id):
        raise NotFound(f"location {location_id} not found")
    return loc


async def get_location_by_code(session: AsyncSession, code: str) -> Location | None:
    return (await session.execute(select(Location).where(Location.code == code))).scalar_one_or_none()


async def create_location(session: AsyncSession, *, data: LocationCreate) -> Location:
    if await get_location_by_code(session, data.code):
        raise AlreadyExists(f"location code {data.code!r} is taken", field="code")
    fields = data.model_dump(exclude={"capabilities", "external_refs"})
    fields["kind"] = data.kind.value
    loc = Location(**fields, **data.capabilities.model_dump())
    session.add(loc)
    await session.flush()
    for source, ref in data.external_refs.items():
        await external_refs.set_reference(session, entity="location", entity_id=loc.id, source=source, reference=ref)
    return loc


async def update_location(
    session: AsyncSession, location_id: int, *, data: LocationUpdate, principal: Principal
) -> Location:
    loc = await get_location(session, location_id, principal=principal)
    changes = data.model_dump(exclude_unset=True, exclude={"capabilities", "external_refs"})
    for name, value in changes.items():
        setattr(loc, name, value)
    if data.capabilities is not None:
        for name, value in data.capabilities.model_dump().items():
            setattr(loc, name, value)
    for source, ref in (data.external_refs or {}).items():
        await external_refs.set_reference(session, entity="location", entity_id=loc.id, source=source, reference=ref)
    await session.flush()
    await session.refresh(loc)
    return loc


async def list_locations(
    session: AsyncSession, *, principal: Principal, kind: LocationKind | None = None, q: str | None = None,
    capability: str | None = None, cursor: str | None = None, limit: int = 50, sort: str | None = None,
) -> tuple[list[Location], str | None]:
    stmt = _visible(principal)
    if kind:
        stmt = stmt.where(Location.kind == kind.value)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(or_(func.lower(Location.name).like(like), func.lower(Location.city).like(like),
                              func.lower(Location.code).like(like)))
    if capability:
        if capability not in CAPABILITY_FIELDS:
            raise InvalidInput(f"unknown capability {capability!r}", field="capability",
                               allowed=list(CAPABILITY_FIELDS))
        stmt = stmt.where(getattr(Location, capability).is_(True))
    return await paginate(session, stmt, id_column=Location.id, sort=SORTS, sort_value=sort, cursor=cursor,
                          limit=limit)


async def location_by_reference(session: AsyncSession, *, source: str, reference: str, principal: Principal):
    location_id = await external_refs.require_entity_id(session, entity="location", source=source,
                                                        reference=reference)
    return await get_location(session, location_id, principal=principal)


async def all_location_ids(session: AsyncSession) -> set[int]:
    return set((await session.scalars(select(Location.id))).all())


async def count_locations(session: AsyncSession, *, principal: Principal) -> int:
    """How many locations the principal may see."""
    stmt = select(func.count()).select_from(Location)
    if principal.location_ids is not None:
        stmt = stmt.where(Location.id.in_(principal.location_ids))
    return int(await session.scalar(stmt) or 0)
