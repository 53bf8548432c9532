"""catalog: every GTIN in one form, its shortest (``05901234123457`` → ``5901234123457``)

A GTIN-8, -12 or -13 zero-padded on the left is the same barcode as a GTIN-14, so the unique constraint on
``variant.gtin`` let one barcode belong to two SKUs through padding. The catalog now keeps each GTIN in its
shortest form (``catalog/gtin.py``: the GTIN-14 without leading zeros, padded back to the shortest GTIN length
that holds it), which makes the constraint refuse such a pair, and every lookup turns a scanned code into that
form. Values already stored padded are rewritten here; an all-zero GTIN, which is no barcode, is cleared. Where
the rewritten value already belongs to another variant (the same barcode on two SKUs), the padded one keeps its
value as stored so that nothing is lost: a lookup finds the other, and the clash is left for a person to settle. A downgrade changes nothing (the shortest form is a valid GTIN as it was before).

Revision ID: 0015_gtin_shortest_form
Revises: 0001
Create Date: 2026-12-08 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_gtin_shortest_form"
down_revision = "0001"
branch_labels = None
depends_on = None

_LENGTHS = (8, 12, 13, 14)
_variant = sa.table("variant", sa.column("id", sa.BigInteger()), sa.column("gtin", sa.String()))


def shortest_form(digits: str) -> str:
    """As ``catalog.gtin.shortest_form`` (copied: a migration keeps working when the code moves on)."""
    core = digits.lstrip("0")
    length = next((n for n in _LENGTHS if n >= len(core)), len(digits))
    return core.rjust(length, "0")


def upgrade() -> None:
    bind = op.get_bind()
    # only a value with a leading zero can be padded
    rows = bind.execute(sa.select(_variant.c.id, _variant.c.gtin).where(_variant.c.gtin.like("0%"))
                        .order_by(_variant.c.id)).all()
    if not rows:
        return
    taken = set(bind.execute(sa.select(_variant.c.gtin).where(_variant.c.gtin.is_not(None))).scalars())
    for variant_id, gtin in rows:
        if not gtin.isdigit():
            continue
        if not gtin.strip("0"):
            bind.execute(sa.update(_variant).where(_variant.c.id == variant_id).values(gtin=None))
            continue
        short = shortest_form(gtin)
        if short != gtin and short not in taken:
            bind.execute(sa.update(_variant).where(_variant.c.id == variant_id).values(gtin=short))
            taken.discard(gtin)
            taken.add(short)


def downgrade() -> None:
    pass
