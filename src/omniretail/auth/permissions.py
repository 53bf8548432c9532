"""Roles, what each may do, and the principal a request acts as.

Row scoping: a store associate sees only their locations; an integration account only its channels. A
``None`` scope means "every location/channel".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    ASSOCIATE = "associate"
    INTEGRATION = "integration"
    ANALYST = "analyst"


READ_ALL = {
    "catalog:read", "locations:read", "channels:read", "prices:read", "inventory:read", "orders:read",
    "customers:read", "analytics:read",
}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.OWNER: frozenset(READ_ALL | {
        "catalog:write", "locations:write", "channels:write", "channels:secrets", "prices:write",
        "inventory:write", "orders:write", "customers:write", "users:manage", "audit:read",
    }),
    Role.ADMIN: frozenset(READ_ALL | {
        "catalog:write", "locations:write", "channels:write", "channels:secrets", "prices:write",
        "inventory:write", "orders:write", "customers:write", "users:manage", "audit:read",
    }),
    Role.MANAGER: frozenset(READ_ALL | {
        "catalog:write", "locations:write", "channels:write", "prices:write", "inventory:write",
        "orders:write", "customers:write", "audit:read",
    }),
    Role.ASSOCIATE: frozenset({
        "catalog:read", "locations:read", "prices:read", "inventory:read", "inventory:write",
        "orders:read", "orders:write", "customers:read",
    }),
    Role.INTEGRATION: frozenset({
        "catalog:read", "channels:read", "channels:write", "prices:read", "prices:write", "inventory:read",
        "orders:read", "orders:write",
    }),
    Role.ANALYST: frozenset(READ_ALL | {"audit:read"}),
}

HOME_PAGE = {
    Role.OWNER: "/backoffice",
    Role.ADMIN: "/backoffice",
    Role.MANAGER: "/backoffice",
    Role.ANALYST: "/backoffice",
    Role.ASSOCIATE: "/store",
    Role.INTEGRATION: "/docs",
}


@dataclass(frozen=True)
class Principal:
    """Who a request acts as: a user through a session or an API token, or the CLI/system."""

    user_id: int | None
    email: str
    role: Role
    location_ids: frozenset[int] | None = None
    channel_ids: frozenset[int] | None = None
    token_id: int | None = None
    locale: str = "en"
    permissions: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(cls, *, user_id: int | None, email: str, role: str, location_ids=None, channel_ids=None,
              token_id: int | None = None, locale: str = "en") -> Principal:
        role = Role(role)
        locs = frozenset(location_ids or ()) if role is Role.ASSOCIATE else None
        chans = frozenset(channel_ids or ()) if role is Role.INTEGRATION else None
        return cls(user_id, email, role, locs, chans, token_id, locale, ROLE_PERMISSIONS[role])

    @classmethod
    def system(cls, label: str = "system") -> Principal:
        return cls(None, label, Role.OWNER, None, None, None, "en", ROLE_PERMISSIONS[Role.OWNER])

    @property
    def label(self) -> str:
        return f"{self.email} (token {self.token_id})" if self.token_id else self.email

    @property
    def idempotency_scope(self) -> str:
        return f"user:{self.user_id}" if self.user_id is not None else f"system:{self.email}"

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    def sees_location(self, location_id: int) -> bool:
        return self.location_ids is None or location_id in self.location_ids

    def sees_channel(self, channel_id: int) -> bool:
        return self.channel_ids is None or channel_id in self.channel_ids
