"""Settings from environment variables (``OMNIRETAIL_*``) and an optional TOML file."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_VAR_DIR = Path("var")


def _toml_path() -> Path:
    return Path(os.environ.get("OMNIRETAIL_CONFIG", "omniretail.toml"))


class Settings(BaseSettings):
    """Everything configurable. Environment beats the TOML file, which beats the defaults."""

    model_config = SettingsConfigDict(env_prefix="OMNIRETAIL_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///./{DEFAULT_VAR_DIR}/omniretail.db",
        description="SQLAlchemy URL. postgresql://… uses asyncpg; postgresql+psycopg://… uses psycopg 3.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs sessions and encrypts channel secrets. Generated into var/secret.key when unset.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    var_dir: Path = DEFAULT_VAR_DIR
    sql_echo: bool = False
    db_pool_size: int = 20
    session_max_age_s: int = 12 * 3600
    secure_cookies: bool = False
    default_locale: str = "en"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _toml_path()
        if path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    def resolved_secret_key(self) -> str:
        """The configured secret, or one generated once and kept in ``var/secret.key``."""
        if self.secret_key:
            return self.secret_key
        path = self.var_dir / "secret.key"
        if path.is_file():
            return path.read_text().strip()
        self.var_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(key)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
