"""On PostgreSQL placement's one read runs inside the function ``order_placement_read`` (migration 0013), which
holds a copy of the statement: the copy must be the statement the code builds, with the same columns."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from omniretail.orders import placement_pg
from omniretail.platform.db import driver_connection


async def test_the_function_runs_the_statement_the_code_builds_with_one_generic_plan(session, engine_db):
    if engine_db.is_sqlite:
        pytest.skip("PostgreSQL only: SQLite has no functions and reads in several statements")
    source, config = (await session.execute(text(
        "SELECT prosrc, proconfig FROM pg_proc WHERE proname = 'order_placement_read'"))).one()
    body = source.split("RETURN QUERY ", 1)[1].rsplit(";", 1)[0]
    assert body == placement_pg.READ_STATEMENT, (
        "orders/placement_pg.READ_STATEMENT changed: write a migration that replaces order_placement_read "
        "with the new statement (see migrations 0013 and 0014)")
    assert "plan_cache_mode=force_generic_plan" in config

    conn = await driver_connection(session)
    statement = await conn.prepare(placement_pg.READ_STATEMENT)
    call = await conn.prepare(placement_pg._CALL_READ)
    assert [(a.name, a.type.name) for a in call.get_attributes()] == \
        [(a.name, a.type.name) for a in statement.get_attributes()]
    assert [p.name for p in call.get_parameters()] == [p.name for p in statement.get_parameters()]
