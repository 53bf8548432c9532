"""Picking by scanning: the associate scans each line's barcode (GTIN) or types its SKU; only when every line
of the fulfilment order matches is it marked picked (``fulfilment.mark_picked``, conditional as ever).

A scan that does not match its line is an ``InvalidInput`` naming the line (``field="scan-{index}"``, and
``mismatches`` with every wrong line), so a page can put the message next to that line's input.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth.schemas import Principal
from omniretail.catalog.gtin import canonical_gtin
from omniretail.catalog.models import Variant
from omniretail.platform.errors import InvalidInput

from . import fulfilment
from .schemas import FulfilmentOrderRead

VARIANTS = Variant.__table__


class ScanMismatch(InvalidInput):
    code, title = "scan-mismatch", "The scanned code is not this line's product"


async def codes_of(session: AsyncSession, variant_ids: list[int]) -> dict[int, set[str]]:
    """variant id → the codes that identify it on the shelf (SKU, GTIN), upper-cased."""
    rows = await session.execute(select(VARIANTS.c.id, VARIANTS.c.sku, VARIANTS.c.gtin)
                                 .where(VARIANTS.c.id.in_(sorted(set(variant_ids)))))
    return {r.id: {c.strip().upper() for c in (r.sku, r.gtin) if c} for r in rows}


def mismatched_lines(lines: list[dict], scans: list[str], codes: dict[int, set[str]]) -> list[int]:
    """Indexes of the lines whose scan is missing or names another product."""
    wrong = []
    for i, line in enumerate(lines):
        scanned = (scans[i] if i < len(scans) else "").strip().upper()
        known = codes.get(line["variant_id"], set()) | {str(line["sku"]).upper()}
        # a barcode in any zero padding counts as the catalog keeps it (catalog.gtin.shortest_form)
        if scanned not in known and canonical_gtin(scanned) not in known:
            wrong.append(i)
    return wrong


async def mark_picked_by_scan(session: AsyncSession, fo_id: int, *, scans: list[str], principal: Principal,
                              actor: str) -> FulfilmentOrderRead:
    """Mark the fulfilment order picked when ``scans`` (one per line, in line order) match its lines."""
    fo, _order = await fulfilment.load(session, fo_id, principal=principal)
    lines = list(fo["lines"])
    wrong = mismatched_lines(lines, scans, await codes_of(session, [x["variant_id"] for x in lines]))
    if wrong:
        raise ScanMismatch(f"the scan of line {wrong[0] + 1} ({lines[wrong[0]]['sku']}) does not match",
                           field=f"scan-{wrong[0]}", mismatches=[
                               {"index": i, "sku": lines[i]["sku"],
                                "scanned": (scans[i] if i < len(scans) else "")[:64]} for i in wrong])
    return await fulfilment.mark_picked(session, fo_id, principal=principal, actor=actor)
