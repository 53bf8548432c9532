"""Feeds' background job: rebuild every active Google Merchant channel's feeds, hourly.

Google fetches a feed on its own schedule and lets an item expire 30 days after its last refresh, so the files
must stay fresh without anyone pressing "build". Idempotent (each build replaces the files whole); one build per
channel directory at a time (``service``'s lock). Registered when ``omniretail.channels.feeds.tasks`` is listed
in ``omniretail/handlers.py``.
"""

from __future__ import annotations

from sqlalchemy import text

from omniretail.platform.db import unit_of_work
from omniretail.platform.jobs import WorkerContext, every

from . import service

REBUILD_SECONDS = 3600


@every(REBUILD_SECONDS, "channels.feeds.rebuild")
async def rebuild_feeds(context: WorkerContext) -> None:
    async with unit_of_work(context.db, readonly=True) as session:
        channel_ids = (await session.execute(
            text("SELECT id FROM channel WHERE kind = :kind AND is_active ORDER BY id"),
            {"kind": service.GOOGLE_MERCHANT})).scalars().all()
    for channel_id in channel_ids:  # a failure is written to that channel's report and logged; the others go on
        await service.build_in_background(context.db, channel_id, var_dir=context.settings.var_dir)
