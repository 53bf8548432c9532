"""Build a Google Merchant channel's feeds into files, and everything needed to serve them.

Files live in ``<var_dir>/feeds/<channel code>/``: ``products.xml``, ``products.tsv``, ``local-inventory.tsv``,
``local-inventory.xml`` and ``report.json``. Each is written to a temporary file and renamed over the old one
when complete; one build per channel directory runs at a time (an exclusive ``flock``, so also across
processes). The build only reads the database, in the session it is given (pass a read-only one).

Feed URLs carry a token: an HMAC of the channel id with the instance secret (nothing stored, nothing to leak
through the API). Setting ``feed_url_version`` in the channel settings to another number changes it.
"""

from __future__ import annotations

import asyncio
import fcntl
import hmac
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.crypto import sign
from omniretail.platform.db import Database
from omniretail.platform.errors import DomainError, InvalidInput

from . import queries
from .formats import AtomicFile
from .google_local import build_local_feed
from .google_product import build_product_feed, check_url_template
from .report import FeedReport

log = logging.getLogger("omniretail.feeds")

GOOGLE_MERCHANT = "google_merchant"
FEEDS = ("products", "local_inventory")
MEDIA_TYPES = {
    "products.xml": "application/xml",
    "products.tsv": "text/tab-separated-values",
    "local-inventory.tsv": "text/tab-separated-values",
    "local-inventory.xml": "application/xml",
}
REPORT_FILE = "report.json"


# --- where the files are, and who may fetch them ----------------------------------------------------------

def channel_dir(var_dir: Path, *, code: str, channel_id: int) -> Path:
    safe = code if code not in (".", "..") and "/" not in code else f"channel-{channel_id}"
    return Path(var_dir) / "feeds" / safe


def feed_token(secret_key: str, channel_id: int, settings: dict[str, Any] | None = None) -> str:
    version = (settings or {}).get("feed_url_version", 1)
    return sign(secret_key, f"omniretail/feeds/v1/{channel_id}/{version}".encode())[:32]


def token_matches(secret_key: str, channel_id: int, settings: dict[str, Any] | None, token: str | None) -> bool:
    return bool(token) and hmac.compare_digest(feed_token(secret_key, channel_id, settings), token or "")


def feed_paths(*, code: str, channel_id: int, settings: dict[str, Any] | None, secret_key: str) -> dict[str, str]:
    """The public paths of a channel's feeds, token included (prefix them with the server's base URL)."""
    token = feed_token(secret_key, channel_id, settings)
    return {name: f"/feeds/{code}/{name}?token={token}" for name in MEDIA_TYPES}


def check_buildable(*, kind: str, settings: dict[str, Any] | None) -> None:
    if kind != GOOGLE_MERCHANT:
        raise InvalidInput(f"feeds are built for {GOOGLE_MERCHANT} channels, not {kind}", field="kind")
    try:
        check_url_template((settings or {}).get("product_url_template"))
    except ValueError as exc:
        raise InvalidInput(str(exc), field="settings.product_url_template") from None


# --- building -------------------------------------------------------------------------------------------

@asynccontextmanager
async def _build_lock(directory: Path) -> AsyncIterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".build.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


async def build_channel_feeds(
    session: AsyncSession, channel_id: int, *, var_dir: Path, at: datetime | None = None,
    feeds: tuple[str, ...] = FEEDS, product_formats: tuple[str, ...] = ("xml", "tsv"),
    local_formats: tuple[str, ...] = ("tsv", "xml"), max_items: int | None = None,
) -> dict[str, Any]:
    """Build the channel's feeds and its report; returns the report. Raises ``DomainError`` for a channel
    that cannot have feeds (the previous files are then left as they were)."""
    at = at or clock.now()
    ctx = await queries.load_context(session, channel_id, at=at)
    check_buildable(kind=ctx.kind, settings=ctx.settings)
    directory = channel_dir(var_dir, code=ctx.code, channel_id=ctx.channel_id)
    async with _build_lock(directory):
        started = time.perf_counter()
        report = FeedReport()
        head = {"channel_id": ctx.channel_id, "channel_code": ctx.code, "built_at": at.isoformat()}
        try:
            if "products" in feeds:
                await build_product_feed(session, ctx, directory=directory, report=report, formats=product_formats,
                                         max_items=max_items)
            if "local_inventory" in feeds:
                await build_local_feed(session, ctx, directory=directory, report=report, formats=local_formats)
        except Exception as exc:
            previous = read_report_file(directory) or {}
            _write_report(directory, {**head, "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                                      "last_success_at": previous.get("built_at") if previous.get("status") == "ok"
                                      else previous.get("last_success_at")})
            raise
        body = {**head, "status": "ok", "seconds": round(time.perf_counter() - started, 3), **report.as_dict()}
        _write_report(directory, body)
        return body


async def build_in_background(db: Database, channel_id: int, *, var_dir: Path) -> None:
    """For ``BackgroundTasks``: build in a read-only session of its own, after the request has ended. A failure
    is written to the channel's report (``status: failed``), which the API serves, and logged."""
    try:
        async with db.read_sessionmaker() as session:
            try:
                report = await build_channel_feeds(session, channel_id, var_dir=var_dir)
            finally:
                await session.rollback()
        log.info("feeds of channel %s built: %s items, %s left out", channel_id,
                 report["feeds"].get("products", {}).get("items"), report["errors_total"])
    except DomainError as exc:
        log.warning("feeds of channel %s not built: %s", channel_id, exc.detail)
    except Exception:
        log.exception("feeds of channel %s failed", channel_id)


# --- reading what was built -------------------------------------------------------------------------------

def _write_report(directory: Path, body: dict[str, Any]) -> None:
    with AtomicFile(directory / REPORT_FILE) as fh:
        fh.write(orjson.dumps(body, option=orjson.OPT_INDENT_2).decode())


def read_report_file(directory: Path) -> dict[str, Any] | None:
    try:
        return orjson.loads((directory / REPORT_FILE).read_bytes())
    except FileNotFoundError:
        return None


def read_report(var_dir: Path, *, code: str, channel_id: int) -> dict[str, Any] | None:
    return read_report_file(channel_dir(var_dir, code=code, channel_id=channel_id))


def feed_file(var_dir: Path, *, code: str, channel_id: int, name: str) -> Path | None:
    """The built file ``name`` of the channel, or None (unknown name, not built yet)."""
    if name not in MEDIA_TYPES:
        return None
    path = channel_dir(var_dir, code=code, channel_id=channel_id) / name
    return path if path.is_file() else None
