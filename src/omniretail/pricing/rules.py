"""Which price a channel shows at a given moment, and why. Pure: no database, no clock.

A channel's candidates are its own price lists plus the shared lists (no channel) in its currency. They
are ranked by priority (highest first); at equal priority a channel's own list beats a shared one, then the
older list (lower id) wins. The first candidate that is active, in the channel's currency, inside its
validity window and holding a price row valid at that moment is selected; every other candidate is reported
with the reason it lost. Windows include their start and exclude their end: ``valid_from <= at < valid_to``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from omniretail.platform import money


class Verdict(StrEnum):
    SELECTED = "selected"
    OUTRANKED = "outranked"
    LIST_INACTIVE = "list_inactive"
    CURRENCY_MISMATCH = "currency_mismatch"
    LIST_NOT_STARTED = "list_not_started"
    LIST_ENDED = "list_ended"
    NO_PRICE = "no_price"
    PRICE_NOT_STARTED = "price_not_started"
    PRICE_ENDED = "price_ended"


class Window(StrEnum):
    OPEN = "open"
    NOT_STARTED = "not_started"
    ENDED = "ended"


def window_at(valid_from: datetime | None, valid_to: datetime | None, at: datetime) -> Window:
    if valid_from is not None and at < valid_from:
        return Window.NOT_STARTED
    if valid_to is not None and at >= valid_to:
        return Window.ENDED
    return Window.OPEN


def check_window(valid_from: datetime | None, valid_to: datetime | None) -> None:
    if valid_from is not None and valid_to is not None and valid_from >= valid_to:
        raise ValueError("valid_from must be before valid_to")


@dataclass(frozen=True, slots=True)
class PriceRow:
    id: int
    amount_minor: int
    compare_at_minor: int | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True, slots=True)
class ListCandidate:
    """A price list that may price the variant on the channel, with its row for the variant (if any)."""

    id: int
    code: str
    priority: int
    currency: str
    channel_id: int | None  # None: a shared list
    is_active: bool = True
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    prices_include_tax: bool = True
    price: PriceRow | None = None


@dataclass(frozen=True, slots=True)
class Considered:
    candidate: ListCandidate
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Resolution:
    at: datetime
    considered: tuple[Considered, ...]

    @property
    def winner(self) -> ListCandidate | None:
        return next((c.candidate for c in self.considered if c.verdict is Verdict.SELECTED), None)


def rank(candidate: ListCandidate) -> tuple[int, bool, int]:
    return -candidate.priority, candidate.channel_id is None, candidate.id


def _rejection(candidate: ListCandidate, currency: str, at: datetime) -> Verdict | None:
    if not candidate.is_active:
        return Verdict.LIST_INACTIVE
    if candidate.currency != currency:
        return Verdict.CURRENCY_MISMATCH
    list_window = window_at(candidate.valid_from, candidate.valid_to, at)
    if list_window is not Window.OPEN:
        return Verdict.LIST_NOT_STARTED if list_window is Window.NOT_STARTED else Verdict.LIST_ENDED
    if candidate.price is None:
        return Verdict.NO_PRICE
    price_window = window_at(candidate.price.valid_from, candidate.price.valid_to, at)
    if price_window is not Window.OPEN:
        return Verdict.PRICE_NOT_STARTED if price_window is Window.NOT_STARTED else Verdict.PRICE_ENDED
    return None


def resolve_price(candidates: Iterable[ListCandidate], *, currency: str, at: datetime) -> Resolution:
    considered: list[Considered] = []
    selected = False
    for candidate in sorted(candidates, key=rank):
        verdict = _rejection(candidate, currency, at)
        if verdict is None:
            verdict = Verdict.OUTRANKED if selected else Verdict.SELECTED
            selected = True
        considered.append(Considered(candidate, verdict))
    return Resolution(at, tuple(considered))


# --- amounts -----------------------------------------------------------------------------------------

def check_compare_at(amount: Decimal, compare_at: Decimal | None) -> None:
    """A compare-at (struck-through) price only makes sense above the price."""
    if compare_at is not None and compare_at <= amount:
        raise ValueError("compare_at must be greater than amount")


def to_minor_units(amount: Decimal, currency: str) -> int:
    """Exact minor units, refusing more decimals than the currency has (raises ``MoneyError``)."""
    return money.to_minor(money.parse_amount(amount, currency), currency)
