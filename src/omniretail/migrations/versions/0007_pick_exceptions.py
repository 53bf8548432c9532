"""pick exceptions: phantom-stock counters per (variant, location), their per-location settings, and refunds
that belong to no return (a declined line)

Revision ID: 0007_pick_exceptions
Revises: 0005_returns
Create Date: 2026-11-23 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omniretail.platform.models

revision = "0007_pick_exceptions"
down_revision = "0005_returns"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime


def _zero(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "phantom_stock",
        sa.Column("variant_id", BigIntPK, nullable=False),
        sa.Column("location_id", BigIntPK, nullable=False),
        _zero("rejections"), _zero("units"), _zero("strikes"), _zero("buffer"), _zero("clean_picks_since"),
        sa.Column("last_rejected_at", UTC(timezone=True), nullable=True),
        sa.Column("last_reason", sa.String(length=20), server_default="", nullable=False),
        sa.CheckConstraint("buffer >= 0", name=op.f("ck_phantom_stock_buffer_not_negative")),
        _fk("phantom_stock", "variant_id", "variant"),
        _fk("phantom_stock", "location_id", "location"),
        sa.PrimaryKeyConstraint("variant_id", "location_id", name=op.f("pk_phantom_stock")),
    )
    op.create_index("ix_phantom_stock_location", "phantom_stock", ["location_id", "rejections"])
    op.create_table(
        "phantom_stock_settings",
        sa.Column("location_id", BigIntPK, nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("buffer_step", sa.Integer(), nullable=True),
        sa.Column("clean_picks_per_unit", sa.Integer(), nullable=True),
        _fk("phantom_stock_settings", "location_id", "location"),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_phantom_stock_settings")),
    )
    with op.batch_alter_table("refund") as batch:
        batch.alter_column("return_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM refund WHERE return_id IS NULL")
    with op.batch_alter_table("refund") as batch:
        batch.alter_column("return_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("phantom_stock_settings")
    op.drop_index("ix_phantom_stock_location", table_name="phantom_stock")
    op.drop_table("phantom_stock")
