"""inventory: stock levels, movement ledger, reservations, per-location stock settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import omniretail.platform.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigIntPK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = omniretail.platform.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "stock_level",
        sa.Column("variant_id", BigIntPK, nullable=False),
        sa.Column("location_id", BigIntPK, nullable=False),
        sa.Column("on_hand", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("reserved", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("safety_stock", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column("low_stock_alerted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("low_stock_changed_version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.CheckConstraint("reserved >= 0", name=op.f("ck_stock_level_reserved_not_negative")),
        sa.CheckConstraint("safety_stock >= 0", name=op.f("ck_stock_level_safety_stock_not_negative")),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_stock_level_variant_id_variant"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"],
                                name=op.f("fk_stock_level_location_id_location"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("variant_id", "location_id", name=op.f("pk_stock_level")),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_stock_level_location", "stock_level", ["location_id", "variant_id"])

    op.create_table(
        "stock_movement",
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("on_hand_after", sa.Integer(), nullable=False),
        sa.Column("reference_type", sa.String(length=40), nullable=True),
        sa.Column("reference_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.String(length=500), server_default="", nullable=False),
        sa.Column("actor", sa.String(length=300), server_default="", nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"],
                                name=op.f("fk_stock_movement_variant_id_variant"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"],
                                name=op.f("fk_stock_movement_location_id_location"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stock_movement")),
    )
    op.create_index("ix_stock_movement_variant_location", "stock_movement", ["variant_id", "location_id", "id"])
    op.create_index("ix_stock_movement_location", "stock_movement", ["location_id", "id"])
    op.create_index("ix_stock_movement_created_at", "stock_movement", ["created_at"])
    op.create_index("ix_stock_movement_reference", "stock_movement", ["reference_type", "reference_id"])

    op.create_table(
        "reservation",
        sa.Column("variant_id", sa.BigInteger(), nullable=False),
        sa.Column("location_id", sa.BigInteger(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=10), server_default="open", nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("reference", sa.String(length=200), server_default="", nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("expires_at", UTC(timezone=True), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("closed_at", UTC(timezone=True), nullable=True),
        sa.Column("id", BigIntPK, autoincrement=True, nullable=False),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_reservation_quantity_positive")),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_reservation_variant_id_variant"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"],
                                name=op.f("fk_reservation_location_id_location"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["channel_id"], ["channel.id"], name=op.f("fk_reservation_channel_id_channel"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reservation")),
    )
    op.create_index("ix_reservation_open", "reservation", ["variant_id", "location_id"],
                    sqlite_where=sa.text("state = 'open'"), postgresql_where=sa.text("state = 'open'"))
    op.create_index("ix_reservation_expiry", "reservation", ["expires_at"],
                    sqlite_where=sa.text("state = 'open' AND expires_at IS NOT NULL"),
                    postgresql_where=sa.text("state = 'open' AND expires_at IS NOT NULL"))
    op.create_index("ix_reservation_reference", "reservation", ["reference"])

    op.create_table(
        "location_stock_settings",
        sa.Column("location_id", BigIntPK, nullable=False),
        sa.Column("default_low_stock_threshold", sa.Integer(), nullable=True),
        sa.Column("allow_negative_stock", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"],
                                name=op.f("fk_location_stock_settings_location_id_location"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("location_id", name=op.f("pk_location_stock_settings")),
    )


def downgrade() -> None:
    op.drop_table("location_stock_settings")
    op.drop_index("ix_reservation_reference", table_name="reservation")
    op.drop_index("ix_reservation_expiry", table_name="reservation")
    op.drop_index("ix_reservation_open", table_name="reservation")
    op.drop_table("reservation")
    op.drop_index("ix_stock_movement_reference", table_name="stock_movement")
    op.drop_index("ix_stock_movement_created_at", table_name="stock_movement")
    op.drop_index("ix_stock_movement_location", table_name="stock_movement")
    op.drop_index("ix_stock_movement_variant_location", table_name="stock_movement")
    op.drop_table("stock_movement")
    op.drop_index("ix_stock_level_location", table_name="stock_level")
    op.drop_table("stock_level")
