"""orders: customers and their channel identities, orders, lines, fulfilment orders, shipments, timeline

Revision ID: 0003_orders
Revises: 0002
Create Date: 2026-11-24 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import omniretail.platform.models

revision = "0003_orders"
down_revision = "0002"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime
JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def _id() -> sa.Column:
    return sa.Column("id", BigIntPK, autoincrement=True, nullable=False)


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"),
                                   ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "customer",
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("locale", sa.String(length=10), server_default="en", nullable=False),
        sa.Column("marketing_consent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("merged_into_id", sa.BigInteger(), nullable=True),
        _id(),
        sa.Column("created_at", UTC(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        _fk("customer", "merged_into_id", "customer", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
    )
    op.create_index("ix_customer_email", "customer", ["email"])
    op.create_index("ix_customer_phone", "customer", ["phone"])

    op.create_table(
        "customer_identity",
        sa.Column("customer_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("customer_identity", "customer_id", "customer", "CASCADE"),
        _fk("customer_identity", "channel_id", "channel", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_identity")),
        sa.UniqueConstraint("channel_id", "external_id", name=op.f("uq_customer_identity_channel_id_external_id")),
    )
    op.create_index("ix_customer_identity_customer", "customer_identity", ["customer_id"])

    op.create_table(
        "customer_merge",
        sa.Column("source_customer_id", sa.BigInteger(), nullable=False),
        sa.Column("target_customer_id", sa.BigInteger(), nullable=False),
        sa.Column("identity_ids", JSON, nullable=False),
        sa.Column("order_ids", JSON, nullable=False),
        sa.Column("target_before", JSON, nullable=False),
        sa.Column("merged_at", UTC(timezone=True), nullable=False),
        sa.Column("merged_by", sa.String(length=300), nullable=False),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("unmerged_at", UTC(timezone=True), nullable=True),
        sa.Column("unmerged_by", sa.String(length=300), nullable=True),
        _id(),
        _fk("customer_merge", "source_customer_id", "customer", "CASCADE"),
        _fk("customer_merge", "target_customer_id", "customer", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merge")),
    )
    op.create_index("ix_customer_merge_source", "customer_merge", ["source_customer_id"])
    op.create_index("ix_customer_merge_target", "customer_merge", ["target_customer_id"])

    op.create_table(
        "sales_order",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_identity_id", sa.BigInteger(), nullable=True),
        sa.Column("contact", JSON, nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("payment_status", sa.String(length=20), nullable=False),
        sa.Column("delivery_method", sa.String(length=20), nullable=False),
        sa.Column("pickup_location_id", sa.BigInteger(), nullable=True),
        sa.Column("origin_location_id", sa.BigInteger(), nullable=True),
        sa.Column("shipping_address", JSON, nullable=True),
        sa.Column("subtotal_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("shipping_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("prices_include_tax", sa.Boolean(), nullable=False),
        sa.Column("channel_revision", sa.BigInteger(), nullable=True),
        sa.Column("routing", JSON, nullable=False),
        sa.Column("note", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("cancel_reason", sa.String(length=500), nullable=True),
        sa.Column("placed_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("sales_order", "channel_id", "channel", "RESTRICT"),
        _fk("sales_order", "customer_id", "customer", "SET NULL"),
        _fk("sales_order", "customer_identity_id", "customer_identity", "SET NULL"),
        _fk("sales_order", "pickup_location_id", "location"),
        _fk("sales_order", "origin_location_id", "location"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sales_order")),
        sa.UniqueConstraint("channel_id", "external_id", name=op.f("uq_sales_order_channel_id_external_id")),
        sa.UniqueConstraint("number", name=op.f("uq_sales_order_number")),
    )
    op.create_index("ix_sales_order_customer", "sales_order", ["customer_id"])
    op.create_index("ix_sales_order_identity", "sales_order", ["customer_identity_id"])
    op.create_index("ix_sales_order_state", "sales_order", ["state", "id"])
    op.create_index("ix_sales_order_origin", "sales_order", ["origin_location_id"])

    op.create_table(
        "order_line",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("quantity_backordered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("quantity_cancelled", sa.Integer(), server_default="0", nullable=False),
        sa.Column("unit_price_minor", sa.BigInteger(), nullable=False),
        sa.Column("discount_minor", sa.BigInteger(), nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 4), nullable=False),
        sa.Column("tax_minor", sa.BigInteger(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("price_source", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        _id(),
        _fk("order_line", "order_id", "sales_order", "CASCADE"),
        _fk("order_line", "variant_id", "variant", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_line")),
    )
    op.create_index("ix_order_line_order", "order_line", ["order_id", "position"])

    op.create_table(
        "fulfilment_order",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("delivery_method", sa.String(length=20), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("pickup_code", sa.String(length=12), nullable=True),
        sa.Column("checked_in_at", UTC(timezone=True), nullable=True),
        sa.Column("check_in", JSON, nullable=True),
        sa.Column("assigned_to", sa.String(length=300), nullable=True),
        sa.Column("ready_at", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        _id(),
        _fk("fulfilment_order", "order_id", "sales_order", "CASCADE"),
        _fk("fulfilment_order", "location_id", "location", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fulfilment_order")),
    )
    op.create_index("ix_fulfilment_order_order", "fulfilment_order", ["order_id"])
    op.create_index("ix_fulfilment_order_location", "fulfilment_order", ["location_id", "state", "id"])
    op.create_index("ix_fulfilment_order_assigned", "fulfilment_order", ["location_id", "created_at"])
    op.create_index("ix_fulfilment_order_ready", "fulfilment_order", ["state", "ready_at"])

    op.create_table(
        "shipment",
        sa.Column("fulfilment_order_id", sa.BigInteger(), nullable=False),
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("carrier", sa.String(length=60), nullable=False),
        sa.Column("tracking_number", sa.String(length=100), nullable=False),
        sa.Column("tracking_url", sa.String(length=500), nullable=True),
        sa.Column("parcels", JSON, nullable=False),
        sa.Column("lines", JSON, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("shipped_at", UTC(timezone=True), nullable=False),
        sa.Column("delivered_at", UTC(timezone=True), nullable=True),
        _id(),
        _fk("shipment", "fulfilment_order_id", "fulfilment_order", "CASCADE"),
        _fk("shipment", "order_id", "sales_order", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
    )
    op.create_index("ix_shipment_fulfilment_order", "shipment", ["fulfilment_order_id"])
    op.create_index("ix_shipment_order", "shipment", ["order_id"])

    op.create_table(
        "order_event",
        sa.Column("order_id", sa.BigInteger(), nullable=False),
        sa.Column("fulfilment_order_id", sa.BigInteger(), nullable=True),
        sa.Column("at", UTC(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("from_state", sa.String(length=24), nullable=True),
        sa.Column("to_state", sa.String(length=24), nullable=True),
        sa.Column("data", JSON, nullable=False),
        _id(),
        _fk("order_event", "order_id", "sales_order", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_event")),
    )
    op.create_index("ix_order_event_order", "order_event", ["order_id", "id"])


def downgrade() -> None:
    for table, indexes in (
        ("order_event", ["ix_order_event_order"]),
        ("shipment", ["ix_shipment_order", "ix_shipment_fulfilment_order"]),
        ("fulfilment_order", ["ix_fulfilment_order_ready", "ix_fulfilment_order_assigned",
                              "ix_fulfilment_order_location", "ix_fulfilment_order_order"]),
        ("order_line", ["ix_order_line_order"]),
        ("sales_order", ["ix_sales_order_origin", "ix_sales_order_state", "ix_sales_order_identity",
                         "ix_sales_order_customer"]),
        ("customer_merge", ["ix_customer_merge_target", "ix_customer_merge_source"]),
        ("customer_identity", ["ix_customer_identity_customer"]),
        ("customer", ["ix_customer_phone", "ix_customer_email"]),
    ):
        for index in indexes:
            op.drop_index(index, table_name=table)
        op.drop_table(table)
