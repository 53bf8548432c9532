"""pos: registers, register shifts (one open per register), cash movements, sales rung up at the till

Revision ID: 0009_pos
Revises: 0003_orders
Create Date: 2026-11-23 16:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniretail.platform.models

revision = "0009_pos"
down_revision = "0003_orders"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
OPEN_SHIFT = "state = 'open'"


def _id() -> sa.Column:
    return sa.Column("id", BigIntPK, autoincrement=True, nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "pos_register",
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("pos_register", "location_id", "location", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_register")),
        sa.UniqueConstraint("location_id", "code", name=op.f("uq_pos_register_location_id_code")),
    )
    op.create_table(
        "pos_register_shift",
        sa.Column("register_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("opened_by", sa.String(length=320), nullable=False),
        sa.Column("opened_at", UTC(timezone=True), nullable=False),
        sa.Column("opening_float_minor", sa.BigInteger(), nullable=False),
        sa.Column("closed_by", sa.String(length=320), nullable=True),
        sa.Column("closed_at", UTC(timezone=True), nullable=True),
        sa.Column("counted_cash_minor", sa.BigInteger(), nullable=True),
        sa.Column("expected_cash_minor", sa.BigInteger(), nullable=True),
        sa.Column("difference_minor", sa.BigInteger(), nullable=True),
        sa.Column("count_detail", JSON, nullable=False),
        sa.Column("note", sa.String(length=500), server_default="", nullable=False),
        _id(),
        _fk("pos_register_shift", "register_id", "pos_register", "CASCADE"),
        _fk("pos_register_shift", "location_id", "location", "CASCADE"),
        _fk("pos_register_shift", "channel_id", "channel", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_register_shift")),
    )
    op.create_index("ix_pos_register_shift_one_open", "pos_register_shift", ["register_id"], unique=True,
                    sqlite_where=sa.text(OPEN_SHIFT), postgresql_where=sa.text(OPEN_SHIFT))
    op.create_index("ix_pos_register_shift_location", "pos_register_shift", ["location_id", "opened_at"])
    op.create_table(
        "pos_cash_movement",
        sa.Column("shift_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("pos_cash_movement", "shift_id", "pos_register_shift", "CASCADE"),
        _fk("pos_cash_movement", "order_id", "sales_order", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_cash_movement")),
        sa.UniqueConstraint("shift_id", "reference", name=op.f("uq_pos_cash_movement_shift_id_reference")),
    )
    op.create_index("ix_pos_cash_movement_shift", "pos_cash_movement", ["shift_id", "id"])
    op.create_table(
        "pos_sale",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("shift_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("payment_method", sa.String(length=10), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("tendered_minor", sa.BigInteger(), nullable=True),
        sa.Column("change_minor", sa.BigInteger(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("sold_by", sa.String(length=320), nullable=False),
        sa.Column("sold_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("pos_sale", "order_id", "sales_order", "CASCADE"),
        _fk("pos_sale", "shift_id", "pos_register_shift", "RESTRICT"),
        _fk("pos_sale", "location_id", "location", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pos_sale")),
        sa.UniqueConstraint("order_id", name=op.f("uq_pos_sale_order_id")),
    )
    op.create_index("ix_pos_sale_shift", "pos_sale", ["shift_id"])


def downgrade() -> None:
    for table, indexes in (
        ("pos_sale", ["ix_pos_sale_shift"]),
        ("pos_cash_movement", ["ix_pos_cash_movement_shift"]),
        ("pos_register_shift", ["ix_pos_register_shift_location", "ix_pos_register_shift_one_open"]),
        ("pos_register", []),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
