"""inventory operations: transfers between locations, count sheets, incoming purchase orders, pre-order caps

Revision ID: 0004_inventory_ops
Revises: 0002
Create Date: 2026-11-25 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omniretail.platform.models

revision = "0004_inventory_ops"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime
OPEN = "state = 'open'"


def _id() -> sa.Column:
    return sa.Column("id", BigIntPK, autoincrement=True, nullable=False)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete="CASCADE")


def _text(name: str, length: int = 300) -> sa.Column:
    return sa.Column(name, sa.String(length=length), server_default="", nullable=False)


def _zero(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), server_default=sa.text("0"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "stock_transfer",
        sa.Column("source_location_id", sa.BigInteger(), nullable=False),
        sa.Column("destination_location_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="requested", nullable=False),
        sa.Column("order_reference", sa.String(length=100), nullable=True),
        _text("note", 500), _text("requested_by"), _text("shipped_by"), _text("received_by"),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("shipped_at", UTC(timezone=True), nullable=True),
        sa.Column("received_at", UTC(timezone=True), nullable=True),
        sa.Column("cancelled_at", UTC(timezone=True), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _zero("version"),
        _id(),
        sa.CheckConstraint("source_location_id <> destination_location_id",
                           name=op.f("ck_stock_transfer_distinct_locations")),
        _fk("stock_transfer", "source_location_id", "location"),
        _fk("stock_transfer", "destination_location_id", "location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_transfer")),
    )
    op.create_index("ix_stock_transfer_source", "stock_transfer", ["source_location_id", "id"])
    op.create_index("ix_stock_transfer_destination", "stock_transfer", ["destination_location_id", "id"])
    op.create_index("ix_stock_transfer_state", "stock_transfer", ["state", "id"])
    op.create_index("ix_stock_transfer_order_reference", "stock_transfer", ["order_reference"])

    op.create_table(
        "stock_transfer_line",
        sa.Column("transfer_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity_requested", sa.Integer(), nullable=False),
        _zero("quantity_shipped"), _zero("quantity_received"),
        _id(),
        sa.CheckConstraint("quantity_requested > 0", name=op.f("ck_stock_transfer_line_requested_positive")),
        sa.CheckConstraint("quantity_shipped >= 0", name=op.f("ck_stock_transfer_line_shipped_not_negative")),
        sa.CheckConstraint("quantity_received >= 0 AND quantity_received <= quantity_shipped",
                           name=op.f("ck_stock_transfer_line_received_within_shipped")),
        _fk("stock_transfer_line", "transfer_id", "stock_transfer"),
        _fk("stock_transfer_line", "variant_id", "variant"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_transfer_line")),
        sa.UniqueConstraint("transfer_id", "variant_id",
                            name=op.f("uq_stock_transfer_line_transfer_id_variant_id")),
    )

    op.create_table(
        "count_sheet",
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="open", nullable=False),
        _zero("variance_threshold"),
        sa.Column("needs_approval", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        _text("note", 500), _text("created_by"), _text("submitted_by"), _text("decided_by"),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("submitted_at", UTC(timezone=True), nullable=True),
        sa.Column("decided_at", UTC(timezone=True), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _id(),
        sa.CheckConstraint("variance_threshold >= 0", name=op.f("ck_count_sheet_threshold_not_negative")),
        _fk("count_sheet", "location_id", "location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_sheet")),
    )
    op.create_index("ix_count_sheet_location", "count_sheet", ["location_id", "id"])
    op.create_index("ix_count_sheet_state", "count_sheet", ["state", "id"])

    op.create_table(
        "count_sheet_line",
        sa.Column("sheet_id", sa.BigInteger(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=True),
        _text("counted_by"),
        sa.Column("counted_at", UTC(timezone=True), nullable=True),
        _id(),
        sa.CheckConstraint("counted >= 0", name=op.f("ck_count_sheet_line_counted_not_negative")),
        _fk("count_sheet_line", "sheet_id", "count_sheet"),
        _fk("count_sheet_line", "variant_id", "variant"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_count_sheet_line")),
        sa.UniqueConstraint("sheet_id", "variant_id", name=op.f("uq_count_sheet_line_sheet_id_variant_id")),
    )

    op.create_table(
        "incoming_stock",
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _zero("received_quantity"),
        sa.Column("expected_date", sa.Date(), nullable=False),
        _text("reference", 100),
        sa.Column("state", sa.String(length=10), server_default="open", nullable=False),
        _text("created_by"),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _id(),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_incoming_stock_quantity_positive")),
        sa.CheckConstraint("received_quantity >= 0 AND received_quantity <= quantity",
                           name=op.f("ck_incoming_stock_received_within")),
        _fk("incoming_stock", "variant_id", "variant"),
        _fk("incoming_stock", "location_id", "location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incoming_stock")),
    )
    op.create_index("ix_incoming_stock_open", "incoming_stock", ["variant_id", "location_id", "expected_date"],
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
    op.create_index("ix_incoming_stock_reference", "incoming_stock", ["reference"])

    op.create_table(
        "preorder_cap",
        sa.Column("variant_id", BigIntPK, nullable=False),
        sa.Column("cap", sa.Integer(), nullable=True),
        _zero("preordered"),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint("cap >= 0", name=op.f("ck_preorder_cap_cap_not_negative")),
        sa.CheckConstraint("preordered >= 0", name=op.f("ck_preorder_cap_preordered_not_negative")),
        _fk("preorder_cap", "variant_id", "variant"),
        sa.PrimaryKeyConstraint("variant_id", name=op.f("pk_preorder_cap")),
    )


def downgrade() -> None:
    op.drop_table("preorder_cap")
    op.drop_index("ix_incoming_stock_reference", table_name="incoming_stock")
    op.drop_index("ix_incoming_stock_open", table_name="incoming_stock")
    op.drop_table("incoming_stock")
    op.drop_table("count_sheet_line")
    op.drop_index("ix_count_sheet_state", table_name="count_sheet")
    op.drop_index("ix_count_sheet_location", table_name="count_sheet")
    op.drop_table("count_sheet")
    op.drop_table("stock_transfer_line")
    op.drop_index("ix_stock_transfer_order_reference", table_name="stock_transfer")
    op.drop_index("ix_stock_transfer_state", table_name="stock_transfer")
    op.drop_index("ix_stock_transfer_destination", table_name="stock_transfer")
    op.drop_index("ix_stock_transfer_source", table_name="stock_transfer")
    op.drop_table("stock_transfer")
