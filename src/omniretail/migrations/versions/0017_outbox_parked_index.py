"""outbox: a new event goes into one index besides its key, not two

Every unpublished event was in two partial indexes: ``ix_outbox_unpublished`` (id, ``published_at IS NULL``)
and the workers' ``ix_outbox_pending_topic`` (topic, id, ``published_at IS NULL AND parked_at IS NULL``). Order
placement appends six events, so twelve index inserts. The first is replaced by ``ix_outbox_parked`` (id,
``published_at IS NULL AND parked_at IS NOT NULL``), which holds only parked events (the operators' list and
requeue); the queue summary (``outbox_admin.queue_status``) reads both partial indexes.

Revision ID: 0017_outbox_parked_index
Revises: 0012_outbox_wakeup_after_commit (and needs 0003_notifications)
Create Date: 2026-12-06 14:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_outbox_parked_index"
down_revision = "0012_outbox_wakeup_after_commit"
branch_labels = None
depends_on = "0003_notifications"  # parked_at and ix_outbox_pending_topic come from there

_PARKED = "published_at IS NULL AND parked_at IS NOT NULL"
_UNPUBLISHED = "published_at IS NULL"


def upgrade() -> None:
    op.create_index("ix_outbox_parked", "outbox", ["id"], sqlite_where=sa.text(_PARKED),
                    postgresql_where=sa.text(_PARKED))
    op.drop_index("ix_outbox_unpublished", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_unpublished", "outbox", ["id"], sqlite_where=sa.text(_UNPUBLISHED),
                    postgresql_where=sa.text(_UNPUBLISHED))
    op.drop_index("ix_outbox_parked", table_name="outbox")
