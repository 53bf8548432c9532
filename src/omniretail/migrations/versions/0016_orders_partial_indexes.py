"""orders: index only the rows a query can look for; drop an index nothing reads

Placing an order writes its row and a fulfilment order per location, and each index on them is one more insert
(and one more relation to lock and open) in that statement. Three indexes held mostly empty keys:
``sales_order.origin_location_id`` is set only for orders entered at a store, and a fulfilment order gets
``ready_at`` when it is ready for pickup and ``transfer_id`` only for a ship-to-store leg. Every query on them
gives a value (``= :id``, ``IN (…)``, ``<= :now``, ``IS NOT NULL``), which a partial index ``WHERE … IS NOT
NULL`` serves. ``ix_fulfilment_order_assigned`` (location, created_at) served the daily capacity count before
``assigned_day`` (``ix_fulfilment_order_day``) took over; no query reads it any more.

Revision ID: 0016_orders_partial_indexes
Revises: 0014_placement_nextvals
Create Date: 2026-12-06 14:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_orders_partial_indexes"
down_revision = "0014_placement_nextvals"
branch_labels = None
depends_on = "0008_store_promise"  # transfer_id and its index come from there

_PARTIAL = (
    ("ix_sales_order_origin", "sales_order", ["origin_location_id"], "origin_location_id IS NOT NULL"),
    ("ix_fulfilment_order_ready", "fulfilment_order", ["state", "ready_at"], "ready_at IS NOT NULL"),
    ("ix_fulfilment_order_transfer", "fulfilment_order", ["transfer_id"], "transfer_id IS NOT NULL"),
)


def upgrade() -> None:
    for name, table, columns, where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns, sqlite_where=sa.text(where), postgresql_where=sa.text(where))
    op.drop_index("ix_fulfilment_order_assigned", table_name="fulfilment_order")


def downgrade() -> None:
    op.create_index("ix_fulfilment_order_assigned", "fulfilment_order", ["location_id", "created_at"])
    for name, table, columns, _where in _PARTIAL:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, columns)
