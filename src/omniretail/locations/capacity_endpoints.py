"""``/locations/{id}/capacity``: a day's fulfilment capacity, what is used and left, and a manager's override."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from omniretail.api.deps import SessionDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal

from . import capacity

router = APIRouter(prefix="/locations", tags=["locations"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("locations:read")]
Writer = Annotated[Principal, require("locations:write")]


class CapacityRead(BaseModel):
    location_id: int
    date: dt.date = Field(description="The location's local date")
    timezone: str
    daily_capacity: int | None = Field(description="The standing limit (None: no limit)")
    extra: int = Field(description="The manager's change for this day")
    capacity: int | None = Field(description="daily_capacity + extra, at least 0 (None: no limit)")
    used: int = Field(description="Live fulfilment orders assigned on this day")
    left: int | None = Field(description="What routing may still assign (0: routing skips it, capacity_full)")


class CapacityOverride(BaseModel):
    date: dt.date | None = Field(default=None, description="The location's local date; default today there")
    extra: int = Field(description="Orders added to (or, negative, taken from) daily_capacity on that day; "
                                   "0 removes the override")


def _read(day: capacity.CapacityDay) -> CapacityRead:
    return CapacityRead(location_id=day.location_id, date=day.day, timezone=day.timezone,
                        daily_capacity=day.daily_capacity, extra=day.extra, capacity=day.capacity, used=day.used,
                        left=day.left)


@router.get("/{location_id}/capacity", summary="A day's fulfilment capacity: capacity, used and left")
async def get_capacity(session: SessionDep, principal: Reader, location_id: int,
                       date: Annotated[dt.date | None, Query(description="Local date; default today")] = None
                       ) -> CapacityRead:
    return _read(await capacity.get_capacity(session, location_id, principal=principal, day=date))


@router.post("/{location_id}/capacity", summary="Raise (or lower) one day's fulfilment capacity")
async def set_capacity(session: SessionDep, principal: Writer, location_id: int,
                       data: CapacityOverride) -> CapacityRead:
    return _read(await capacity.set_extra(session, location_id, day=data.date, extra=data.extra,
                                          actor=principal.label, principal=principal))
