"""Count the SQL statements an operation sends (tests and benchmarks): those SQLAlchemy executes and those a
hot path sends straight through the asyncpg driver (``platform.db.driver_connection``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from .db import driver_connection


@asynccontextmanager
async def counting_statements(session: AsyncSession) -> AsyncIterator[list[str]]:
    """Yields the list the statements are appended to while the block runs."""
    statements: list[str] = []
    engine = session.bind.sync_engine if hasattr(session.bind, "sync_engine") else session.bind.engine.sync_engine

    def on_sqlalchemy(_conn, _cursor, statement, *_args):
        statements.append(statement)

    def on_driver(record) -> None:
        statements.append(record.query)

    driver = None
    event.listen(engine, "before_cursor_execute", on_sqlalchemy)
    if session.bind.dialect.name == "postgresql":
        driver = await driver_connection(session)
        driver.add_query_logger(on_driver)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_sqlalchemy)
        if driver is not None:
            await asyncio.sleep(0)  # asyncpg hands the records to its loggers with call_soon
            driver.remove_query_logger(on_driver)

