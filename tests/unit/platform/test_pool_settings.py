import asyncio

import pytest
from pydantic import ValidationError

from omniretail.platform.config import Settings
from omniretail.platform.db import create_database

URL = "postgresql://nobody@127.0.0.1:1/none"  # nothing connects: the pool is only built


@pytest.mark.parametrize(("overflow", "expected"), [(None, 3), (0, 0), (5, 5)])
def test_create_database_overflows_as_many_as_the_pool_unless_told(overflow, expected):
    db = create_database(URL, pool_size=3, pool_overflow=overflow)
    try:
        assert db.engine.pool.size() == 3
        assert db.engine.pool._max_overflow == expected
    finally:
        asyncio.run(db.dispose())


def test_pool_settings_are_checked_when_they_load():
    assert Settings(db_pool_overflow=5).db_pool_overflow == 5
    assert Settings().db_pool_overflow == 0  # a burst waits for a pooled connection (tests/concurrency)
    with pytest.raises(ValidationError, match="db_pool_overflow"):
        Settings(db_pool_overflow=-1)
    with pytest.raises(ValidationError, match="db_pool_size"):
        Settings(db_pool_size=0)


@pytest.mark.parametrize(("server_pool", "worker_pool"), [(20, 10), (8, 4), (1, 4), (40, 20)])
def test_the_worker_keeps_its_connections_instead_of_opening_overflow_ones(server_pool, worker_pool):
    from omniretail.cli.worker import worker_database

    db = worker_database(Settings(database_url=URL, db_pool_size=server_pool))
    try:
        assert db.engine.pool.size() == worker_pool
        assert db.engine.pool._max_overflow == 0
    finally:
        asyncio.run(db.dispose())
