"""store operations: the promise clock and escalation of fulfilment orders, their local assignment day
(capacity), ship-to-store transfer links, per-day capacity overrides

Merges the inventory-operations branch (stock_transfer) and the orders branch (fulfilment_order).

Revision ID: 0008_store_promise
Revises: 0004_inventory_ops, 0005_returns
Create Date: 2026-11-28 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omniretail.platform.models

revision = "0008_store_promise"
down_revision = ("0004_inventory_ops", "0005_returns")
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime

INDEXES = (("ix_fulfilment_order_day", ["location_id", "assigned_day"]),
           ("ix_fulfilment_order_promise", ["promised_by"]),
           ("ix_fulfilment_order_transfer", ["transfer_id"]))


def upgrade() -> None:
    with op.batch_alter_table("fulfilment_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assigned_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("promised_by", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("escalation_level", sa.Integer(), server_default=sa.text("0"),
                                      nullable=False))
        batch_op.add_column(sa.Column("escalated_at", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("transfer_id", sa.BigInteger(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_fulfilment_order_transfer_id_stock_transfer"), "stock_transfer",
                                    ["transfer_id"], ["id"], ondelete="SET NULL")
        for name, columns in INDEXES:
            batch_op.create_index(name, columns, unique=False)

    op.create_table(
        "location_capacity",
        sa.Column("location_id", BigIntPK, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("extra", sa.Integer(), nullable=False),
        sa.Column("set_by", sa.String(length=300), server_default="", nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_location_capacity_location_id_location"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("location_id", "day", name=op.f("pk_location_capacity")),
    )


def downgrade() -> None:
    op.drop_table("location_capacity")
    with op.batch_alter_table("fulfilment_order", schema=None) as batch_op:
        for name, _columns in INDEXES:
            batch_op.drop_index(name)
        batch_op.drop_constraint(op.f("fk_fulfilment_order_transfer_id_stock_transfer"), type_="foreignkey")
        for column in ("transfer_id", "escalated_at", "escalation_level", "promised_by", "assigned_day"):
            batch_op.drop_column(column)
