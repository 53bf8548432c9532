"""Database engines, sessions and the unit of work.

PostgreSQL is the system of record at scale; SQLite (WAL) is the embedded default. On SQLite every write
transaction starts with ``BEGIN IMMEDIATE`` so the write lock is taken up front, and writers inside one process
queue on an asyncio lock instead of busy-waiting on the file lock.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import TextClause, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.sql.selectable import TextualSelect

from .outbox import NOTIFIER, CommitNotifier  # PostgreSQL: wake the workers after commits with events


def normalise_url(url: str) -> str:
    """Pick the async driver for a URL written the usual way."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def sync_url(url: str) -> str:
    """The blocking-driver twin of a URL, for Alembic and bulk tools."""
    u = make_url(normalise_url(url))
    if u.drivername.startswith("postgresql"):
        u = u.set(drivername="postgresql+psycopg")
    elif u.drivername.startswith("sqlite"):
        u = u.set(drivername="sqlite")
    return u.render_as_string(hide_password=False)


def is_sqlite_url(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def _install_sqlite_behaviour(engine: AsyncEngine) -> None:
    # SQLite's own lower()/upper() fold ASCII only ("Ś" stays "Ś"): replace them on every connection with
    # Unicode-aware ones, so LOWER(title) LIKE :pattern finds Polish, Turkish and Albanian capitals as on
    # PostgreSQL. lower() is catalog.rules.fold_case (dotted İ → i, as PostgreSQL's libc lower()); no index is
    # built on either function, so nothing stored depends on which implementation computed it.
    def _lower(value):
        return value.replace("\u0130", "i").lower() if isinstance(value, str) else value

    def _upper(value):
        return value.upper() if isinstance(value, str) else value

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every sqlite test
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)
        dbapi_connection.create_function("upper", 1, _upper, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


@dataclass
class Database:
    """One engine (and its read-only twin on SQLite) and the session factories built on it."""

    url: str
    engine: AsyncEngine
    read_engine: AsyncEngine
    is_sqlite: bool
    write_lock: asyncio.Lock | None = field(default=None)

    def __post_init__(self) -> None:
        info = {} if self.is_sqlite else {NOTIFIER: CommitNotifier(self.engine)}
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False, info=info)
        self.read_sessionmaker = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False,
                                                    info=info)

    @property
    def backend(self) -> str:
        return "sqlite" if self.is_sqlite else "postgresql"

    async def dispose(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def writer_slot(self) -> AsyncIterator[None]:
        """Serialise writers inside this process on SQLite (a no-op on PostgreSQL)."""
        if self.write_lock is None:
            yield
            return
        async with self.write_lock:
            yield


def create_database(url: str, *, echo: bool = False, pool_size: int = 20, pool_overflow: int | None = None,
                    pre_ping: bool = False, pool_timeout: float = 30.0) -> Database:
    """``pool_overflow``: connections opened beyond ``pool_size`` for a burst and closed after use (None: as
    many; PostgreSQL). ``pool_timeout``: seconds a session waits for a connection when all are taken (then
    ``sqlalchemy.exc.TimeoutError``: HTTP 503 with Retry-After)."""
    url = normalise_url(url)
    sqlite = is_sqlite_url(url)
    if sqlite:
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, poolclass=NullPool if db_path == ":memory:" else None)
        _install_sqlite_behaviour(engine)
        read_engine = engine.execution_options(sqlite_begin="DEFERRED")
        return Database(url, engine, read_engine, True, asyncio.Lock())
    engine = create_async_engine(
        url, echo=echo, pool_size=pool_size, max_overflow=pool_size if pool_overflow is None else pool_overflow,
        pool_pre_ping=pre_ping, pool_recycle=1800, pool_timeout=pool_timeout,
        json_deserializer=orjson.loads,  # JSON/JSONB columns read back: the same values, ~5x faster than json
    )
    return Database(url, engine, engine, False, None)


@asynccontextmanager
async def unit_of_work(db: Database, *, readonly: bool = False) -> AsyncIterator[AsyncSession]:
    """One transaction outside HTTP (CLI, worker, tests): commit on success, roll back on error."""
    if readonly:
        async with db.read_sessionmaker() as session:
            yield session
            await session.rollback()
        return
    async with db.writer_slot(), db.sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


async def driver_connection(session: AsyncSession, *, begin: bool = True):
    """The session's asyncpg connection, for a hot path that sends hand-written SQL straight through the driver
    (prepared and cached by asyncpg) instead of through SQLAlchemy's statement layer. PostgreSQL only.

    ``begin``: the session's transaction is begun first (SQLAlchemy begins lazily, at its first statement), so
    what is written commits or rolls back with the session. ``begin=False`` leaves a connection on which no
    transaction has begun as it is: each statement then commits on its own (a read that needs no snapshot
    shared with later statements, or one statement that is the whole write); once anything begins the
    transaction, later statements join it."""
    transaction = session.get_transaction()
    cached = session.info.get(_DRIVER)
    if cached is not None and transaction is not None and cached[0] is transaction:
        adapted = cached[1]
    else:
        conn = await session.connection()
        # the pooled connection is checked out by now: reading it needs no second trip through a greenlet
        adapted = conn.sync_connection.connection.dbapi_connection
        session.info[_DRIVER] = (session.get_transaction(), adapted)
    if begin and adapted._transaction is None:
        await adapted._start_transaction()
    return adapted._connection


_DRIVER = "omniretail.driver_connection"


_NAMED = re.compile(r"(?<![:\w]):([a-z_][a-z0-9_]*)")


def numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """``:name`` parameters → asyncpg's ``$n``; returns the SQL and the names in ``$n`` order."""
    names: list[str] = []

    def number(match: re.Match) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _NAMED.sub(number, sql), tuple(names)


class DriverQuery:
    """One read of a hot path, written once as SQLAlchemy ``text()``: run through SQLAlchemy on any backend,
    and on PostgreSQL straight through asyncpg (``IN :list`` becomes ``= ANY($n)``; no statement or result
    processing layer). Rows come back as mappings; ``json`` names the columns that arrive as JSON text from
    the driver and are parsed (SQLAlchemy's column types parse them on the other path)."""

    def __init__(self, clause: TextClause | TextualSelect, *, json: tuple[str, ...] = ()) -> None:
        self.clause = clause
        self.json = json
        sql = clause.element.text if isinstance(clause, TextualSelect) else clause.text
        self.pg_sql, self.names = numbered(re.sub(r"\bIN :(\w+)", r"= ANY(:\1)", sql))

    async def fetch(self, session: AsyncSession, params: dict[str, Any]) -> list[Mapping[str, Any]]:
        if session.bind.dialect.name != "postgresql":
            return [row._mapping for row in await session.execute(self.clause, params)]
        conn = await driver_connection(session)
        rows = await conn.fetch(self.pg_sql, *(params[name] for name in self.names))
        if not self.json:
            return rows
        out = []
        for record in rows:
            row = dict(record)
            for name in self.json:
                if isinstance(row[name], str):
                    row[name] = orjson.loads(row[name])
            out.append(row)
        return out
