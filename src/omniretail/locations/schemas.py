from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"
    PICKUP_POINT = "pickup_point"


class Capabilities(BaseModel):
    ships_orders: bool = False
    offers_pickup: bool = False
    offers_curbside: bool = False
    accepts_returns: bool = False
    sells_pos: bool = False


def _check_hours(value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
    for day, spans in value.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}; use {', '.join(WEEKDAYS)}")
        for span in spans:
            if len(span) != 2 or not all(_HHMM.match(t) for t in span) or span[0] >= span[1]:
                raise ValueError(f"{day}: each span is [\"HH:MM\", \"HH:MM\"] with open before close")
    return value


def _check_tz(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}") from exc
    return value


class LocationBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    street: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = Field(default="PL", min_length=2, max_length=2, description="ISO 3166-1 alpha-2")
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    timezone: str = "Europe/Warsaw"
    phone: str = ""
    email: str = ""
    opening_hours: dict[str, list[list[str]]] = Field(default_factory=dict)
    capabilities: Capabilities = Field(default_factory=Capabilities)
    daily_capacity: int | None = Field(default=None, ge=0, description="Fulfilment orders a store takes per day")
    is_active: bool = True

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[list[str]]]) -> dict[str, list[list[str]]]:
        return _check_hours(value)

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str) -> str:
        return _check_tz(value)


class LocationCreate(LocationBase):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    external_refs: dict[str, str] = Field(default_factory=dict, description="source -> reference")


class LocationUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = Field(default=None, min_length=2, max_length=2)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    timezone: str | None = None
    phone: str | None = None
    email: str | None = None
    opening_hours: dict[str, list[list[str]]] | None = None
    capabilities: Capabilities | None = None
    daily_capacity: int | None = Field(default=None, ge=0)
    is_active: bool | None = None
    external_refs: dict[str, str | None] | None = None

    @field_validator("opening_hours")
    @classmethod
    def _valid_hours(cls, value: dict[str, list[list[str]]] | None) -> dict[str, list[list[str]]] | None:
        return None if value is None else _check_hours(value)

    @field_validator("timezone")
    @classmethod
    def _valid_timezone(cls, value: str | None) -> str | None:
        return None if value is None else _check_tz(value)


class LocationRead(LocationBase):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    external_refs: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
