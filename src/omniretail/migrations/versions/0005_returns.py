"""returns: RMAs of orders from any channel, their lines (condition, disposition, exchange), refunds

Revision ID: 0005_returns
Revises: 0003_orders
Create Date: 2026-11-26 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omniretail.platform.models

revision = "0005_returns"
down_revision = "0003_orders"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime


def _id() -> sa.Column:
    return sa.Column("id", BigIntPK, autoincrement=True, nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "sales_return",
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("shipping_refunded_minor", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("note", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=True),
        sa.Column("requested_by", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.Column("authorised_at", UTC(timezone=True), nullable=True),
        sa.Column("received_at", UTC(timezone=True), nullable=True),
        sa.Column("inspected_at", UTC(timezone=True), nullable=True),
        sa.Column("closed_at", UTC(timezone=True), nullable=True),
        _id(),
        _fk("sales_return", "order_id", "sales_order", "CASCADE"),
        _fk("sales_return", "location_id", "location", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_return")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_return_number")),
    )
    op.create_index("ix_sales_return_order", "sales_return", ["order_id"])
    op.create_index("ix_sales_return_location", "sales_return", ["location_id", "state", "id"])
    op.create_index("ix_sales_return_state", "sales_return", ["state", "id"])

    op.create_table(
        "return_line",
        sa.Column("return_id", sa.BigInteger(), nullable=False),
        sa.Column("order_line_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason_code", sa.String(length=30), nullable=False),
        sa.Column("reason_note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("value_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("condition", sa.String(length=20), nullable=True),
        sa.Column("disposition", sa.String(length=20), nullable=True),
        sa.Column("inspection_note", sa.String(length=500), server_default="", nullable=False),
        sa.Column("movement_id", sa.BigInteger(), nullable=True),
        sa.Column("exchange_order_id", sa.BigInteger(), nullable=True),
        sa.Column("exchange_order_line_id", sa.BigInteger(), nullable=True),
        sa.Column("exchange_credit_minor", sa.BigInteger(), server_default="0", nullable=False),
        _id(),
        _fk("return_line", "return_id", "sales_return", "CASCADE"),
        _fk("return_line", "order_line_id", "order_line", "CASCADE"),
        _fk("return_line", "exchange_order_id", "sales_order", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_line")),
    )
    op.create_index("ix_return_line_return", "return_line", ["return_id"])
    op.create_index("ix_return_line_order_line", "return_line", ["order_line_id"])

    op.create_table(
        "refund",
        sa.Column("return_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("refund", "return_id", "sales_return", "CASCADE"),
        _fk("refund", "order_id", "sales_order", "CASCADE"),
        _fk("refund", "location_id", "location", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund")),
    )
    op.create_index("ix_refund_return", "refund", ["return_id"])
    op.create_index("ix_refund_order", "refund", ["order_id"])


def downgrade() -> None:
    for table, indexes in (
        ("refund", ["ix_refund_order", "ix_refund_return"]),
        ("return_line", ["ix_return_line_order_line", "ix_return_line_return"]),
        ("sales_return", ["ix_sales_return_state", "ix_sales_return_location", "ix_sales_return_order"]),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
