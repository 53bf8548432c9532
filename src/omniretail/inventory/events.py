"""The events inventory appends to the outbox, in the transaction that changed the stock.

``inventory.stock_changed`` is coalescible per variant (``stock:{variant_id}``): the sync engine only needs the
newest one to recompute what each channel may promise for that variant. Low-stock crossings are not coalesced:
each crossing is announced exactly once.
"""

from __future__ import annotations

from typing import Any

from omniretail.platform import outbox

from .repository import LevelRow

STOCK_CHANGED = "inventory.stock_changed"
LOW_STOCK = "inventory.low_stock"
LOW_STOCK_RECOVERED = "inventory.low_stock_recovered"


def stock_changed(level: LevelRow, cause: str) -> dict[str, Any]:
    return {
        "topic": STOCK_CHANGED, "coalesce_key": f"stock:{level.variant_id}",
        "payload": {"variant_id": level.variant_id, "location_id": level.location_id, "on_hand": level.on_hand,
                    "reserved": level.reserved, "safety_stock": level.safety_stock,
                    "available": level.available, "version": level.version, "cause": cause},
    }


def low_stock_crossing(level: LevelRow) -> dict[str, Any]:
    return {
        "topic": LOW_STOCK if level.low_stock_alerted else LOW_STOCK_RECOVERED, "coalesce_key": None,
        "payload": {"variant_id": level.variant_id, "location_id": level.location_id,
                    "available": level.available, "threshold": level.threshold, "version": level.version},
    }


def for_level(level: LevelRow, cause: str, *, availability_changed: bool = True) -> list[dict[str, Any]]:
    """The events one level change owes: the stock change, and a low-stock crossing if it made one."""
    events = [stock_changed(level, cause)] if availability_changed else []
    if level.alert_changed:
        events.append(low_stock_crossing(level))
    return events


async def append(session, events: list[dict[str, Any]]) -> None:
    await outbox.append_events(session, events)
