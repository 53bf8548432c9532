"""The state machines of transfers and count sheets: which step may leave which state, and to where.

A step is applied as one conditional ``UPDATE … WHERE state IN (<from>)``; when it updates nothing the row
was not in a state that allows it, and :func:`refusal` says so. Pure, no I/O.
"""

from __future__ import annotations

from typing import NamedTuple

from .errors import WrongState


class Step(NamedTuple):
    sources: tuple[str, ...]
    target: str


TRANSFER = {
    "ship": Step(("requested",), "in_transit"),
    "receive": Step(("in_transit",), "in_transit"),  # stays in transit until every shipped unit is in
    "complete": Step(("in_transit",), "received"),
    "cancel": Step(("requested",), "cancelled"),
    "amend": Step(("requested",), "requested"),  # fewer units requested (the source cannot send them all)
}

COUNT_SHEET = {
    "record": Step(("open",), "open"),
    "submit": Step(("open",), "submitted"),
    "approve": Step(("submitted",), "approved"),
    "reject": Step(("open", "submitted"), "rejected"),
}

_WHY = {
    ("transfer", "ship"): "only a requested transfer can be shipped",
    ("transfer", "receive"): "only a transfer in transit can be received",
    ("transfer", "cancel"): "only a transfer that has not shipped can be cancelled",
    ("count_sheet", "record"): "counts can only be entered on an open sheet",
    ("count_sheet", "submit"): "only an open sheet can be submitted",
    ("count_sheet", "approve"): "only a submitted sheet can be approved",
    ("count_sheet", "reject"): "only an open or submitted sheet can be rejected",
}


def refusal(entity: str, entity_id: int, action: str, state: str) -> WrongState:
    """The error for ``action`` refused on ``entity`` ``entity_id`` in ``state``."""
    why = _WHY.get((entity, action), f"cannot {action}")
    return WrongState(f"{entity.replace('_', ' ')} {entity_id} is {state.replace('_', ' ')}: {why}",
                      entity=entity, id=entity_id, state=state, action=action)
