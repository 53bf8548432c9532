"""What the CLI does, as plain async functions over a unit of work (also used by tests)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Principal, Role, UserCreate
from omniretail.platform import clock
from omniretail.platform.config import get_settings
from omniretail.platform.db import create_database, unit_of_work
from omniretail.platform.errors import DomainError


class CliError(Exception):
    pass


async def _ids_for_codes(session, model, codes: list[str], what: str) -> list[int]:
    ids = []
    for code in codes:
        found = (await session.execute(select(model.id).where(model.code == code))).scalar_one_or_none()
        if found is None:
            raise CliError(f"unknown {what} code {code!r}")
        ids.append(found)
    return ids


async def create_user(*, email: str, role: str, full_name: str, password: str | None,
                      location_codes: list[str], channel_codes: list[str], locale: str,
                      database_url: str | None = None) -> dict:
    from omniretail.channels.models import Channel
    from omniretail.locations.models import Location

    db = create_database(database_url or get_settings().database_url)
    try:
        async with unit_of_work(db) as session:
            location_ids = await _ids_for_codes(session, Location, location_codes, "location")
            channel_ids = await _ids_for_codes(session, Channel, channel_codes, "channel")
            try:
                user = await auth_service.create_user(session, data=UserCreate(
                    email=email, role=Role(role), full_name=full_name, password=password, locale=locale,
                    location_ids=location_ids, channel_ids=channel_ids,
                ))
            except DomainError as exc:
                raise CliError(exc.detail) from exc
            except ValueError as exc:
                raise CliError(str(exc)) from exc
            await auth_service.record_audit(session, actor=Principal.system("cli"), action="create_user",
                                            entity="user", entity_id=user.id, data={"email": user.email})
            return {"id": user.id, "email": user.email, "role": user.role}
    finally:
        await db.dispose()


async def create_token(*, email: str, name: str, expires_days: int | None,
                       database_url: str | None = None) -> str:
    db = create_database(database_url or get_settings().database_url)
    try:
        async with unit_of_work(db) as session:
            user = await auth_service.find_user_by_email(session, email)
            if user is None:
                raise CliError(f"no user with email {email}")
            expires = clock.now() + timedelta(days=expires_days) if expires_days else None
            token, plain = await auth_service.create_api_token(session, user_id=user.id, name=name,
                                                               expires_at=expires)
            await auth_service.record_audit(session, actor=Principal.system("cli"), action="create_api_token",
                                            entity="api_token", entity_id=token.id, data={"user": email})
            return plain
    finally:
        await db.dispose()


async def import_catalog(path: Path, *, skip_bad_rows: bool, database_url: str | None = None):
    from omniretail.catalog.csv_import import import_catalog_csv

    db = create_database(database_url or get_settings().database_url)
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            return await import_catalog_csv(db, fh, skip_bad_rows=skip_bad_rows)
    finally:
        await db.dispose()


async def export_catalog(path: Path, *, database_url: str | None = None) -> int:
    from omniretail.catalog.csv_export import export_catalog_csv

    db = create_database(database_url or get_settings().database_url)
    try:
        with path.open("w", newline="", encoding="utf-8") as fh:
            return await export_catalog_csv(db, fh)
    finally:
        await db.dispose()
