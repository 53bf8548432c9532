"""notifications and the worker: outbox claims (lease, error, parked), periodic job runs, delivery log,
notification preferences

Revision ID: 0003_notifications
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniretail.platform.models

revision = "0003_notifications"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
UTC = omniretail.platform.models.UTCDateTime
PENDING = "published_at IS NULL AND parked_at IS NULL"
DUE = "status IN ('pending', 'failed')"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("claimed_until", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("parked_at", UTC(timezone=True), nullable=True))
        batch_op.create_index("ix_outbox_pending_topic", ["topic", "id"], unique=False,
                              sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))

    op.create_table(
        "worker_job",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("last_started_at", UTC(timezone=True), nullable=True),
        sa.Column("last_finished_at", UTC(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=20), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_worker", sa.String(length=100), nullable=True),
        sa.Column("runs", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_job")),
    )

    op.create_table(
        "notification_delivery",
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("template", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("order_ref", sa.String(length=64), nullable=False),
        sa.Column("order_number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=True),
        sa.Column("provider_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", UTC(timezone=True), nullable=True),
        sa.Column("lease_until", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("sent_at", UTC(timezone=True), nullable=True),
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_delivery")),
        sa.UniqueConstraint("event_id", "recipient", "template",
                            name=op.f("uq_notification_delivery_event_id_recipient_template")),
    )
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.create_index("ix_notification_delivery_order_ref", ["order_ref"], unique=False)
        batch_op.create_index("ix_notification_delivery_due", ["next_attempt_at"], unique=False,
                              sqlite_where=sa.text(DUE), postgresql_where=sa.text(DUE))

    op.create_table(
        "notification_preference",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("channels", JSONType, nullable=False),
        sa.Column("opted_out", JSONType, nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.Column("created_at", UTC(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preference")),
        sa.UniqueConstraint("customer_id", name=op.f("uq_notification_preference_customer_id")),
    )


def downgrade() -> None:
    op.drop_table("notification_preference")
    with op.batch_alter_table("notification_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_delivery_due", sqlite_where=sa.text(DUE), postgresql_where=sa.text(DUE))
        batch_op.drop_index("ix_notification_delivery_order_ref")
    op.drop_table("notification_delivery")
    op.drop_table("worker_job")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_pending_topic", sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING))
        batch_op.drop_column("parked_at")
        batch_op.drop_column("last_error")
        batch_op.drop_column("claimed_until")
        batch_op.drop_column("claimed_by")
