from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from .permissions import Principal, Role

__all__ = ["Principal", "Role", "UserCreate", "UserRead", "UserUpdate", "TokenCreate", "TokenCreated",
           "TokenRead", "AuditEventRead"]


class UserCreate(BaseModel):
    email: EmailStr
    full_name: str = ""
    role: Role
    password: str | None = Field(default=None, min_length=10, max_length=200)
    locale: str = "en"
    location_ids: list[int] = Field(default_factory=list, description="Stores an associate works in")
    channel_ids: list[int] = Field(default_factory=list, description="Channels an integration may act for")


class UserUpdate(BaseModel):
    full_name: str | None = None
    role: Role | None = None
    password: str | None = Field(default=None, min_length=10, max_length=200)
    locale: str | None = None
    is_active: bool | None = None
    location_ids: list[int] | None = None
    channel_ids: list[int] | None = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    role: Role
    locale: str
    is_active: bool
    location_ids: list[int]
    channel_ids: list[int]
    created_at: datetime
    last_login_at: datetime | None


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="Shown once. Send as `Authorization: Bearer <token>`.")


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_user_id: int | None
    actor_label: str
    action: str
    entity: str | None
    entity_id: str | None
    data: dict[str, Any]
