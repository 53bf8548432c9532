"""channel sync: listings with desired and acknowledged state, pending recomputes, sync log, cursors, shared
rate limits, channel deliveries (webhooks, fulfilment, tracking)

Revision ID: 0006_sync
Revises: 0002
Create Date: 2026-11-27 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniretail.platform.models

revision = "0006_sync"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
DUE = "desired_version > acked_version AND parked = false"


def _id() -> sa.Column:
    return sa.Column("id", BigIntPK, autoincrement=True, nullable=False)


def _zero(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "channel_listing",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("external", JSON, nullable=False),
        sa.Column("desired_quantity", sa.Integer(), nullable=True),
        sa.Column("desired_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("desired_content_hash", sa.String(length=64), nullable=True),
        sa.Column("desired_published", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        _zero("desired_version"),
        sa.Column("desired_at", UTC(timezone=True), nullable=True),
        sa.Column("acked_quantity", sa.Integer(), nullable=True),
        sa.Column("acked_price_minor", sa.BigInteger(), nullable=True),
        sa.Column("acked_content_hash", sa.String(length=64), nullable=True),
        sa.Column("acked_published", sa.Boolean(), nullable=True),
        _zero("acked_version"),
        sa.Column("acked_at", UTC(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", UTC(timezone=True), nullable=True),
        _zero("attempts"),
        sa.Column("next_attempt_at", UTC(timezone=True), nullable=True),
        sa.Column("parked", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("channel_listing", "channel_id", "channel"),
        _fk("channel_listing", "variant_id", "variant"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_listing")),
        sa.UniqueConstraint("channel_id", "variant_id", name=op.f("uq_channel_listing_channel_id_variant_id")),
    )
    op.create_index("ix_channel_listing_variant", "channel_listing", ["variant_id"])
    op.create_index("ix_channel_listing_due", "channel_listing", ["channel_id", "desired_at"],
                    sqlite_where=sa.text(DUE), postgresql_where=sa.text(DUE))
    op.create_index("ix_channel_listing_parked", "channel_listing", ["channel_id"],
                    sqlite_where=sa.text("parked = true"), postgresql_where=sa.text("parked = true"))

    op.create_table(
        "channel_sync_pending",
        sa.Column("variant_id", BigIntPK, autoincrement=False, nullable=False),
        sa.Column("changed_at", UTC(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=40), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("variant_id", name=op.f("pk_channel_sync_pending")),
    )
    op.create_index("ix_channel_sync_pending_changed", "channel_sync_pending", ["changed_at"])

    op.create_table(
        "channel_sync_log",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("listing_id", sa.BigInteger(), nullable=True),
        sa.Column("variant_id", sa.BigInteger(), nullable=True),
        sa.Column("operation", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("sent", JSON, nullable=True),
        sa.Column("answer", JSON, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("lag_ms", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(length=100), server_default="", nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        _id(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_sync_log")),
    )
    op.create_index("ix_channel_sync_log_listing", "channel_sync_log", ["listing_id", "id"])
    op.create_index("ix_channel_sync_log_channel", "channel_sync_log", ["channel_id", "id"])
    op.create_index("ix_channel_sync_log_at", "channel_sync_log", ["at"])

    op.create_table(
        "channel_sync_cursor",
        sa.Column("channel_id", BigIntPK, nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _fk("channel_sync_cursor", "channel_id", "channel"),
        sa.PrimaryKeyConstraint("channel_id", "name", name=op.f("pk_channel_sync_cursor")),
    )

    op.create_table(
        "channel_rate_limit",
        sa.Column("channel_id", BigIntPK, nullable=False),
        sa.Column("bucket", sa.String(length=40), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("refreshed", sa.Float(), nullable=False),
        sa.Column("blocked_until", sa.Float(), server_default=sa.text("0"), nullable=False),
        _fk("channel_rate_limit", "channel_id", "channel"),
        sa.PrimaryKeyConstraint("channel_id", "bucket", name=op.f("pk_channel_rate_limit")),
    )

    op.create_table(
        "channel_delivery",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        _zero("attempts"),
        sa.Column("next_attempt_at", UTC(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=100), nullable=True),
        sa.Column("lease_until", UTC(timezone=True), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("delivered_at", UTC(timezone=True), nullable=True),
        _id(),
        _fk("channel_delivery", "channel_id", "channel"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_delivery")),
        sa.UniqueConstraint("channel_id", "dedup_key", name=op.f("uq_channel_delivery_channel_id_dedup_key")),
    )
    op.create_index("ix_channel_delivery_due", "channel_delivery", ["next_attempt_at"],
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    op.create_index("ix_channel_delivery_channel", "channel_delivery", ["channel_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_channel_delivery_channel", table_name="channel_delivery")
    op.drop_index("ix_channel_delivery_due", table_name="channel_delivery")
    op.drop_table("channel_delivery")
    op.drop_table("channel_rate_limit")
    op.drop_table("channel_sync_cursor")
    op.drop_index("ix_channel_sync_log_at", table_name="channel_sync_log")
    op.drop_index("ix_channel_sync_log_channel", table_name="channel_sync_log")
    op.drop_index("ix_channel_sync_log_listing", table_name="channel_sync_log")
    op.drop_table("channel_sync_log")
    op.drop_index("ix_channel_sync_pending_changed", table_name="channel_sync_pending")
    op.drop_table("channel_sync_pending")
    op.drop_index("ix_channel_listing_parked", table_name="channel_listing")
    op.drop_index("ix_channel_listing_due", table_name="channel_listing")
    op.drop_index("ix_channel_listing_variant", table_name="channel_listing")
    op.drop_table("channel_listing")
