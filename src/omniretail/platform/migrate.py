"""Run Alembic migrations programmatically (``omniretail migrate``, tests)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from .db import sync_url


def alembic_config(database_url: str) -> Config:
    ini = resources.files("omniretail") / "alembic.ini"
    cfg = Config(str(ini))
    cfg.set_main_option("script_location", str(resources.files("omniretail") / "migrations"))
    url = sync_url(database_url)
    db_path = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and db_path and db_path != ":memory:":
        from pathlib import Path

        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)


def current_heads(database_url: str) -> list[str]:
    from alembic.script import ScriptDirectory

    return list(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())
