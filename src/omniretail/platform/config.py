"""Settings from environment variables (``OMNIRETAIL_*``) and an optional TOML file."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from omniretail.platform import gc_tuning

DEFAULT_VAR_DIR = Path("var")


def _toml_path() -> Path:
    return Path(os.environ.get("OMNIRETAIL_CONFIG", "omniretail.toml"))


class Settings(BaseSettings):
    """Everything configurable. Environment beats the TOML file, which beats the defaults."""

    model_config = SettingsConfigDict(env_prefix="OMNIRETAIL_", extra="ignore")

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///./{DEFAULT_VAR_DIR}/omniretail.db",
        description="SQLAlchemy URL. postgresql://… uses asyncpg; postgresql+psycopg://… uses psycopg 3. Unset: "
        "omniretail.db in var_dir.",
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
    db_pool_size: int = Field(default=20, ge=1, description="Database connections each server process keeps")
    db_pool_overflow: int | None = Field(
        default=0, ge=0,
        description="Connections a server process may open beyond the pool for a burst and close after use. 0 "
        "(the default): a request beyond the pool waits for a pooled connection (the pool grows to its size as "
        "needed and keeps them). Each overflow connection costs PostgreSQL a new backend (≈ 10–20 ms of its CPU: "
        "catalog caches and plans made again); measured, 32 clients on 2 processes with 8 pooled connections "
        "each: ≈ 190 orders/s with 8 overflow, ≈ 410 with none. Unset: as many as the pool.",
    )
    db_pool_pre_ping: bool = Field(
        default=False,
        description="Test each pooled connection before use (one extra round trip per request). Off by "
        "default: a connection broken by a database restart is discarded on its first error, and that "
        "request answers 503 with Retry-After.",
    )
    gc_threshold: str = Field(
        default=gc_tuning.DEFAULT_THRESHOLD,
        description="Garbage-collector thresholds 'g0,g1,g2' of server and worker processes, set after startup "
        "with what startup made frozen (platform/gc_tuning.py); empty: Python's defaults.",
    )
    session_max_age_s: int = 12 * 3600
    secure_cookies: bool = False
    default_locale: str = "en"
    timezone: str = Field(
        default="Europe/Warsaw",
        description="The instance's time zone (IANA name): back-office pages about several locations show times "
        "in it; a store's pages show its own zone",
    )

    # worker: outbox dispatcher and scheduled jobs (platform/worker.py)
    inprocess_worker: bool = Field(default=True, description="SQLite mode: run the worker inside `serve`")
    worker_batch_size: int = 50
    worker_lease_s: float = Field(default=60.0, description="How long a claimed outbox batch stays claimed")
    worker_max_attempts: int = Field(default=10, description="Failed deliveries of one event before it is parked")
    worker_poll_s: float = 1.0
    outbox_retention_days: int = Field(
        default=14, ge=0, description="Days a published outbox event is kept before the worker deletes it "
        "(platform/outbox_retention.py); 0 keeps them all. Unpublished and parked events are always kept")

    # outbound messages (notifications/senders.py)
    smtp_host: str | None = Field(default=None, description="SMTP server; email is not sent while unset")
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_from: str = "omniretail <no-reply@localhost>"
    smtp_timeout_s: float = 30.0
    sms_provider: str = Field(default="log", description="SMS gateway; `log` only writes the message to the log")
    # staff alerts (orders/escalation_alerts.py)
    backoffice_alert_email: str | None = Field(
        default=None, description="Where the back office hears of orders running late at stores; the active "
        "owners when unset")
    public_url: str = Field(
        default="http://127.0.0.1:8000", description="The address customers reach this instance at "
        "(https://shop.example.com): the base of links in customer messages (a channel's `public_url` setting "
        "wins for its orders' messages)")
    backoffice_url: str = Field(
        default="", description="The back office's address (https://hub.example.com) for links in staff "
        "messages; links are relative while unset")

    @model_validator(mode="after")
    def _database_in_var_dir(self) -> Settings:
        """The embedded database lives in ``var_dir`` unless a URL is given: another ``OMNIRETAIL_VAR_DIR`` is
        another instance (its own data, not ./var's)."""
        if "database_url" not in self.model_fields_set:
            path = self.var_dir.as_posix()
            if not self.var_dir.is_absolute() and not path.startswith("."):
                path = f"./{path}"
            self.database_url = f"sqlite+aiosqlite:///{path}/omniretail.db"
        return self

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.lower().startswith(("https://", "http://")):
            raise ValueError("public_url must be an absolute http(s) address, e.g. https://shop.example.com")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        value = value.strip()
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone must be an IANA time zone such as Europe/Warsaw, not {value!r}") from None
        return value

    @field_validator("gc_threshold")
    @classmethod
    def _gc_threshold(cls, value: str) -> str:
        gc_tuning.parse(value)
        return value

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
