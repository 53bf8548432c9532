"""Wake a worker the moment outbox events are committed, instead of at its next poll.

* PostgreSQL: one dedicated asyncpg connection per worker ``LISTEN``s on ``outbox.NOTIFY_CHANNEL``; the process
  that committed outbox rows notifies it right after the commit (``outbox.CommitNotifier``). If the connection drops, the worker falls back to polling (``worker_poll_s``) while it
  reconnects with back-off.
* SQLite: the single in-process worker is woken after each local commit that appended events
  (``outbox.on_local_commit``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy.engine import make_url

from .db import Database
from .outbox import NOTIFY_CHANNEL, on_local_commit

log = logging.getLogger("omniretail.worker")


def asyncpg_dsn(url: str) -> str:
    """The SQLAlchemy URL (``postgresql+asyncpg://…``) as a plain libpq DSN for asyncpg.connect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def listen(db: Database, wake: Callable[[], None], stop: asyncio.Event, *,
                 channel: str = NOTIFY_CHANNEL, retry_cap_s: float = 30.0,
                 ready: asyncio.Event | None = None) -> None:
    """Call ``wake()`` on every outbox notification until ``stop``; SQLite: on every local commit with events."""
    if db.is_sqlite:
        unregister = on_local_commit(wake)
        if ready is not None:
            ready.set()
        try:
            await stop.wait()
        finally:
            unregister()
        return
    import asyncpg

    delay = 0.5
    while not stop.is_set():
        conn = None
        try:
            conn = await asyncpg.connect(asyncpg_dsn(db.url), timeout=10)
            await conn.add_listener(channel, lambda *_: wake())
            wake()  # events committed while we were not listening
            delay = 0.5
            if ready is not None:
                ready.set()
            while not stop.is_set() and not conn.is_closed():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=5.0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database went away: poll meanwhile, reconnect with back-off
            log.warning("outbox LISTEN failed (%s); polling until it reconnects in %.1fs", exc, delay)
        finally:
            if conn is not None and not conn.is_closed():
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
        if not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, retry_cap_s)
