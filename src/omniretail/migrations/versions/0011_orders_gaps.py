"""orders gaps: pickup codes are stored as an HMAC-SHA256 hash (64 hex characters), never in plain text

Codes already issued (ready-for-pickup orders) are hashed in place with the instance secret, so they still work
at hand-over; a downgrade cannot recover them and clears the hashes of orders not handed over yet (the store
then marks them ready again, which sends the customer a fresh code).

Revision ID: 0011_orders_gaps
Revises: 0005_returns
Create Date: 2026-11-23 16:00:00
"""
from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0011_orders_gaps"
down_revision = "0005_returns"
branch_labels = None
depends_on = None

_CONTEXT = "omniretail/pickup-code/v1:"
_fo = sa.table("fulfilment_order", sa.column("id", sa.BigInteger()), sa.column("pickup_code", sa.String()))


def upgrade() -> None:
    with op.batch_alter_table("fulfilment_order") as batch:
        batch.alter_column("pickup_code", existing_type=sa.String(length=12), type_=sa.String(length=64),
                           existing_nullable=True)
    bind = op.get_bind()
    plain = bind.execute(sa.select(_fo.c.id, _fo.c.pickup_code).where(
        _fo.c.pickup_code.is_not(None), sa.func.length(_fo.c.pickup_code) < 64)).all()
    if plain:  # as omniretail.orders.pickup_codes.code_hash did when this revision was written
        from omniretail.platform.config import get_settings

        secret = get_settings().resolved_secret_key().encode()
        for fo_id, code in plain:
            digest = hmac.new(secret, (_CONTEXT + code.strip()).encode(), hashlib.sha256).hexdigest()
            bind.execute(sa.update(_fo).where(_fo.c.id == fo_id).values(pickup_code=digest))


def downgrade() -> None:
    op.execute(sa.update(_fo).where(sa.func.length(_fo.c.pickup_code) > 12).values(pickup_code=None))
    with op.batch_alter_table("fulfilment_order") as batch:
        batch.alter_column("pickup_code", existing_type=sa.String(length=64), type_=sa.String(length=12),
                           existing_nullable=True)
