"""outbox: NOTIFY the workers on insert (PostgreSQL), so they claim new events at once instead of polling

Revision ID: 0007_outbox_notify
Revises: 0006_sync
Create Date: 2026-11-23 16:00:00
"""
from __future__ import annotations

from alembic import op

revision = "0007_outbox_notify"
down_revision = "0006_sync"
branch_labels = None
depends_on = None

# One notification per INSERT statement (not per row), sent at commit; PostgreSQL folds identical notifications
# of one transaction into one. The channel name is platform.outbox.NOTIFY_CHANNEL.
FUNCTION = """CREATE OR REPLACE FUNCTION omniretail_outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('omniretail_outbox', '');
  RETURN NULL;
END $$"""
TRIGGER = ("CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT "
           "EXECUTE FUNCTION omniretail_outbox_notify()")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: one process, woken in-process (platform/outbox.py on_local_commit)
    op.execute(FUNCTION)
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute(TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS omniretail_outbox_notify()")
