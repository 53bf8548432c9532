"""A supplier's delivery received at a location: the lines someone scanned or typed become receipt movements
referenced by the delivery note.

A line names a product by its SKU or its GTIN (the barcode) with a positive quantity; a product that appears on
several lines (scanned once per unit) is received once, its units added up. A line that names no product or
has no positive quantity is refused with its position (``lines``, 1-based, in the order given) so a form can say
which line to fix. All or nothing, like every ledger write.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import String, column, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.errors import InvalidInput, NotFound

from . import service
from .ledger import MovementReference
from .schemas import MovementRead

DELIVERY_NOTE = "delivery_note"  # the reference_type of the movements of a delivery
MAX_DELIVERY_NOTE = 100  # stock_movement.reference_id
MAX_NOTE = 500

_codes_t = table("variant", column("sku", String), column("gtin", String))


async def skus_for_codes(session: AsyncSession, codes: Sequence[str]) -> dict[str, str]:
    """code → SKU for the codes that are a variant's SKU or GTIN (a SKU wins over another variant's GTIN)."""
    wanted = sorted({c for c in codes if c})
    found: dict[str, str] = {}
    for i in range(0, len(wanted), 500):
        chunk = wanted[i:i + 500]
        rows = await session.execute(select(_codes_t.c.sku, _codes_t.c.gtin)
                                     .where(or_(_codes_t.c.sku.in_(chunk), _codes_t.c.gtin.in_(chunk))))
        for sku, gtin in rows:
            if gtin in chunk:
                found.setdefault(gtin, sku)
            if sku in chunk:
                found[sku] = sku
    return found


async def receive_delivery(session: AsyncSession, *, location_id: int, lines: Sequence[tuple[str, int]],
                           delivery_note: str, actor: str, note: str = "",
                           scope: frozenset[int] | None = None) -> list[MovementRead]:
    """Receive the ``(code, quantity)`` lines of the delivery note ``delivery_note`` at ``location_id``."""
    delivery_note = delivery_note.strip()
    if not delivery_note:
        raise InvalidInput("a delivery needs its delivery note number", field="delivery_note")
    if len(delivery_note) > MAX_DELIVERY_NOTE:
        raise InvalidInput(f"a delivery note number has at most {MAX_DELIVERY_NOTE} characters",
                           field="delivery_note", limit=MAX_DELIVERY_NOTE)
    if scope is not None and location_id not in scope:
        raise NotFound(f"location {location_id} not found", location_id=location_id)
    if not lines:
        raise InvalidInput("no lines", field="lines")
    not_positive = [i for i, (_code, quantity) in enumerate(lines, start=1) if quantity <= 0]
    if not_positive:
        raise InvalidInput(f"line {not_positive[0]}: a received quantity must be above 0", field="lines",
                           bad_quantity_lines=not_positive)
    skus = await skus_for_codes(session, [code for code, _ in lines])
    unknown = [(i, code) for i, (code, _q) in enumerate(lines, start=1) if code not in skus]
    if unknown:
        raise InvalidInput(f"line {unknown[0][0]}: no product has the SKU or GTIN {unknown[0][1]}", field="lines",
                           unknown_lines=[i for i, _ in unknown], unknown_skus=[code for _, code in unknown])
    received: dict[str, int] = {}
    for code, quantity in lines:
        received[skus[code]] = received.get(skus[code], 0) + quantity
    return await service.receive_stock(session, location_id=location_id, lines=list(received.items()), actor=actor,
                                       reason=note.strip()[:MAX_NOTE],
                                       reference=MovementReference(DELIVERY_NOTE, delivery_note))
