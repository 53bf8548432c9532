"""Test fixtures shared by the whole suite.

Integration tests run once per database backend: SQLite always, PostgreSQL when it answers
(``OMNIRETAIL_TEST_PG_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``). Off CI an unreachable
PostgreSQL skips those tests with a clear reason; on CI (``CI=true``) it is an error.

Each backend gets one database per xdist worker, migrated with Alembic once. Each test runs inside an outer
transaction that is rolled back afterwards; the code under test commits to savepoints.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from omniretail.api.app import create_app
from omniretail.platform.config import Settings
from omniretail.platform.db import Database, create_database
from omniretail.platform.migrate import upgrade

PG_ADMIN_URL = os.environ.get("OMNIRETAIL_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
ON_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = [b for b in os.environ.get("OMNIRETAIL_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]

_pg_state: dict[str, object] = {}


def postgres_available() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        import psycopg

        try:
            with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), connect_timeout=3) as conn:
                conn.execute("SELECT 1")
            _pg_state["ok"], _pg_state["why"] = True, ""
        except Exception as exc:
            _pg_state["ok"], _pg_state["why"] = False, f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}"
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def _psycopg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://").replace("postgresql+psycopg://", "postgresql://")


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "gw0")


def _create_pg_database(name: str) -> str:
    import psycopg

    with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = _psycopg_dsn(PG_ADMIN_URL).rsplit("/", 1)[0]
    return f"{base}/{name}"


def require_postgres() -> str:
    """For tests that only make sense on PostgreSQL: a fresh migrated database URL, or skip/fail."""
    ok, why = postgres_available()
    if not ok:
        if ON_CI:
            pytest.fail(why)
        pytest.skip(why)
    return PG_ADMIN_URL


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgresql":
        ok, why = postgres_available()
        if not ok:
            if ON_CI:
                pytest.fail(why)
            pytest.skip(why)
    return request.param


def _drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(_psycopg_dsn(PG_ADMIN_URL), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory):
    if backend == "sqlite":
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    # one database per pytest process, so parallel runs never share one
    name = f"omniretail_test_{_worker_id()}_{os.getpid()}"
    url = _create_pg_database(name)
    upgrade(url)
    yield url
    _drop_pg_database(name)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory) -> Settings:
    var = tmp_path_factory.mktemp("var")
    return Settings(database_url=database_url, secret_key="test-secret-key-not-for-production", var_dir=var,
                    inprocess_worker=False)  # tests drive the worker themselves


@pytest_asyncio.fixture(scope="session")
async def engine_db(settings: Settings) -> AsyncIterator[Database]:
    db = create_database(settings.database_url, pool_size=5)
    yield db
    await db.dispose()


@pytest_asyncio.fixture
async def db(engine_db: Database) -> AsyncIterator[Database]:
    """A Database whose sessions all live inside one outer transaction, rolled back after the test."""
    async with engine_db.engine.connect() as conn:
        outer = await conn.begin()
        maker = async_sessionmaker(bind=conn, expire_on_commit=False, autoflush=False,
                                   join_transaction_mode="create_savepoint")
        test_db = Database(engine_db.url, engine_db.engine, engine_db.read_engine, engine_db.is_sqlite,
                           asyncio.Lock())
        test_db.sessionmaker = maker
        test_db.read_sessionmaker = maker
        yield test_db
        if outer.is_active:
            await outer.rollback()


@pytest_asyncio.fixture
async def session(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessionmaker() as s:
        yield s


@pytest.fixture
def app(settings: Settings, db: Database):
    return create_app(settings, db=db)


@pytest_asyncio.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = Path(__file__).resolve().parent.parent / "test-artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(autouse=True, scope="session")
def _no_channel_policy_cache():
    """Tests reuse channel ids and codes across rolled-back transactions: read channels afresh every time."""
    from omniretail.platform import ttl_cache

    ttl_cache.set_enabled(False)
    yield
    ttl_cache.set_enabled(True)


@pytest.fixture
def pg_url():
    """A fresh, migrated PostgreSQL database of its own, for tests that need real concurrent connections."""
    import uuid

    require_postgres()
    name = f"omniretail_fresh_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = _create_pg_database(name)
    upgrade(url)
    yield url
    _drop_pg_database(name)
