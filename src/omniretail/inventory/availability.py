"""Available to promise: how much of a variant a channel may sell, and how that number was reached.

Pure rules, no I/O. Per location ``available = on_hand − reserved − safety_stock``, floored at 0: a location
short of stock cannot cancel out another location's surplus. A channel promises the sum over its source
locations, shaped by its stock policy, one step after another:

=================  ===========================================  ======================================
``buffer``         hold N units back from this channel            x = max(0, x − N)
``share_percent``  at most P % of what is left, rounded down      x = ⌊x · P / 100⌋
``keep_last``      never the last N units of the total            x = min(x, max(0, total − N))
``cap``            never more than N                              x = min(x, N)
``round_down_to``  in whole steps of N (packs, lots)              x = ⌊x / N⌋ · N
``show_zero_below`` show 0 rather than fewer than N               x = 0 if x < N
=================  ===========================================  ======================================

"Allegro gets at most 50 % and never the last 2" is ``{"share_percent": 50, "keep_last": 2}``. Every step only
ever lowers the number and never lowers it more when there is more stock, so the promise is never above the
stock, never negative and never falls when stock rises (the unit tests check exactly that).

Backorder and pre-order channels may also promise goods on order. With ``"promise_incoming": true`` the
incoming purchase-order lines at the channel's locations (optionally only those expected within
``"incoming_max_days"`` days) are added after the steps above, less what was already sold ahead and never
beyond the variant's pre-order cap (:func:`promise_incoming`).

Other keys of ``channel.stock_policy`` that inventory reads (the orders package asks through
``reservations.unpaid_order_hold``):

=======================  =====================================================================
``hold_unpaid``          unpaid marketplace orders hold stock (default true)
``unpaid_hold_minutes``  … for at most this many minutes, then the hold expires (default: no limit)
=======================  =====================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import cached_property, partial
from typing import Any, NamedTuple


class InvalidPolicy(ValueError):
    pass


@dataclass(frozen=True)
class LocationStock:
    location_id: int
    on_hand: int
    reserved: int
    safety_stock: int = 0
    code: str = ""
    phantom_buffer: int = 0  # held back for the picks this location keeps failing (``phantom``)
    phantom_rejections: int = 0
    phantom_reason: str = ""

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock - self.phantom_buffer)

    def phantom_explain(self) -> dict[str, Any] | None:
        if not self.phantom_buffer:
            return None
        return {"units": self.phantom_buffer, "rejections": self.phantom_rejections, "reason": self.phantom_reason}


class Rule(NamedTuple):
    name: str
    apply: Callable[[int, int], int]  # (quantity so far, total available) -> quantity
    note: str


@dataclass(frozen=True)
class Step:
    rule: str
    before: int
    after: int
    note: str


@dataclass(frozen=True)
class StockPolicy:
    buffer: int = 0
    share_percent: Fraction | None = None
    keep_last: int = 0
    cap: int | None = None
    round_down_to: int = 1
    show_zero_below: int = 0
    promise_incoming: bool = False
    incoming_max_days: int | None = None
    hold_unpaid: bool = True
    unpaid_hold_minutes: int | None = None

    KEYS = ("buffer", "share_percent", "keep_last", "cap", "round_down_to", "show_zero_below",
            "promise_incoming", "incoming_max_days", "hold_unpaid", "unpaid_hold_minutes")

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> StockPolicy:
        """Read a channel's ``stock_policy``; keys this module does not know are left to others."""
        data = data or {}
        try:
            share = data.get("share_percent")
            share = None if share is None else Fraction(str(share))
        except (ValueError, ZeroDivisionError) as exc:
            raise InvalidPolicy(f"share_percent must be a number, not {data.get('share_percent')!r}") from exc
        policy = cls(
            buffer=_whole(data, "buffer", 0), share_percent=share, keep_last=_whole(data, "keep_last", 0),
            cap=_whole(data, "cap", None), round_down_to=_whole(data, "round_down_to", 1),
            show_zero_below=_whole(data, "show_zero_below", 0),
            promise_incoming=_flag(data, "promise_incoming", False),
            incoming_max_days=_whole(data, "incoming_max_days", None),
            hold_unpaid=_flag(data, "hold_unpaid", True),
            unpaid_hold_minutes=_whole(data, "unpaid_hold_minutes", None),
        )
        if share is not None and not 0 <= share <= 100:
            raise InvalidPolicy("share_percent must be between 0 and 100")
        if policy.round_down_to < 1:
            raise InvalidPolicy("round_down_to must be at least 1")
        return policy

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, default in (("buffer", 0), ("keep_last", 0), ("cap", None), ("round_down_to", 1),
                             ("show_zero_below", 0)):
            if getattr(self, key) != default:
                out[key] = getattr(self, key)
        if self.share_percent is not None:
            share = self.share_percent
            out["share_percent"] = int(share) if share.denominator == 1 else float(share)
        for key, default in (("promise_incoming", False), ("incoming_max_days", None), ("hold_unpaid", True),
                             ("unpaid_hold_minutes", None)):
            if getattr(self, key) != default:
                out[key] = getattr(self, key)
        return out

    def incoming_until(self, today: date) -> date | None:
        """The last expected date this channel may promise from (None: any date)."""
        return None if self.incoming_max_days is None else today + timedelta(days=self.incoming_max_days)

    @cached_property
    def rules(self) -> tuple[Rule, ...]:
        """The steps this policy takes, in order; rules left at their neutral value are skipped."""
        rules = []
        if self.buffer:
            rules.append(Rule("buffer", partial(_minus, self.buffer), f"hold back {self.buffer} unit(s)"))
        if self.share_percent is not None and self.share_percent != 100:
            rules.append(Rule("share", partial(_share, self.share_percent / 100),
                              f"at most {_percent(self.share_percent)} %, rounded down"))
        if self.keep_last:
            rules.append(Rule("keep_last", partial(_keep_last, self.keep_last),
                              f"never the last {self.keep_last} unit(s)"))
        if self.cap is not None:
            rules.append(Rule("cap", partial(_cap, self.cap), f"never more than {self.cap}"))
        if self.round_down_to > 1:
            rules.append(Rule("round_down_to", partial(_round_down, self.round_down_to),
                              f"in whole steps of {self.round_down_to}"))
        if self.show_zero_below:
            rules.append(Rule("show_zero_below", partial(_zero_below, self.show_zero_below),
                              f"show 0 below {self.show_zero_below}"))
        return tuple(rules)


# The rules: (parameter, quantity so far, total available) -> quantity.
def _minus(n: int, x: int, _total: int) -> int:
    return max(0, x - n)


def _share(share: Fraction, x: int, _total: int) -> int:
    return x * share.numerator // share.denominator


def _keep_last(n: int, x: int, total: int) -> int:
    return min(x, max(0, total - n))


def _cap(n: int, x: int, _total: int) -> int:
    return min(x, n)


def _round_down(n: int, x: int, _total: int) -> int:
    return x // n * n


def _zero_below(n: int, x: int, _total: int) -> int:
    return 0 if x < n else x


@dataclass(frozen=True)
class Incoming:
    """A purchase-order line still to arrive (``quantity``: what has not been received yet)."""

    location_id: int
    quantity: int
    expected_date: date
    reference: str = ""
    code: str = ""


@dataclass(frozen=True)
class IncomingPromise:
    """How much of the goods on order a channel may sell ahead, and from when."""

    on_order: int  # Σ still to arrive within the channel's horizon
    preordered: int  # already sold ahead (all channels)
    cap: int | None  # the variant's pre-order cap
    promised: int
    expected_date: date | None  # when the first unit not yet sold ahead is due
    lines: tuple[Incoming, ...]
    left_out: tuple[Incoming, ...] = ()  # expected after the horizon

    def explain(self) -> dict[str, Any]:
        def line(i: Incoming, counted: bool) -> dict[str, Any]:
            return {"location_id": i.location_id, "code": i.code, "quantity": i.quantity,
                    "expected_date": i.expected_date.isoformat(), "reference": i.reference, "counted": counted}

        return {"on_order": self.on_order, "preordered": self.preordered, "preorder_cap": self.cap,
                "promised": self.promised,
                "expected_date": self.expected_date.isoformat() if self.expected_date else None,
                "lines": [line(i, True) for i in self.lines] + [line(i, False) for i in self.left_out]}


def promise_incoming(incoming: Iterable[Incoming], *, preordered: int = 0, cap: int | None = None,
                     until: date | None = None) -> IncomingPromise:
    """What may be sold ahead: the goods on order (expected by ``until``), never more than the pre-order
    ``cap``, less what was already sold ahead. The earliest arrivals serve the earliest pre-orders, so the
    expected date is that of the first unit still free."""
    ordered = sorted(incoming, key=lambda i: (i.expected_date, i.location_id))
    lines = tuple(i for i in ordered if until is None or i.expected_date <= until)
    left_out = tuple(i for i in ordered if until is not None and i.expected_date > until)
    on_order = sum(max(0, i.quantity) for i in lines)
    room = on_order if cap is None else min(on_order, cap)
    promised = max(0, room - max(0, preordered))
    expected, skip = None, max(0, preordered)
    if promised:
        for i in lines:
            if i.quantity > skip:
                expected = i.expected_date
                break
            skip -= max(0, i.quantity)
    return IncomingPromise(on_order, preordered, cap, promised, expected, lines, left_out)


@dataclass(frozen=True)
class Promise:
    """What a channel may promise for one variant, with the reasoning."""

    available: int  # Σ available over the locations considered
    promised: int
    locations: tuple[LocationStock, ...]
    steps: tuple[Step, ...]
    incoming: IncomingPromise | None = None

    @property
    def promised_incoming(self) -> int:
        return self.incoming.promised if self.incoming else 0

    def explain(self) -> dict[str, Any]:
        out = self._explain_stock()
        if self.incoming is not None:
            before = self.promised - self.incoming.promised
            out["steps"].append({"rule": "incoming", "before": before, "after": self.promised,
                                 "note": _incoming_note(self.incoming)})
            out["incoming"] = self.incoming.explain()
        return out

    def _explain_stock(self) -> dict[str, Any]:
        out = {
            "locations": [
                {"location_id": s.location_id, "code": s.code, "on_hand": s.on_hand, "reserved": s.reserved,
                 "safety_stock": s.safety_stock, "available": s.available,
                 "note": _location_note(s),
                 **({"phantom_stock_buffer": s.phantom_explain()} if s.phantom_buffer else {})}
                for s in self.locations
            ],
            "steps": [{"rule": "sum", "before": 0, "after": self.available,
                       "note": f"available summed over {len(self.locations)} location(s)"}]
            + [{"rule": s.rule, "before": s.before, "after": s.after, "note": s.note} for s in self.steps],
            "promised": self.promised,
        }
        buffers = [{"location_id": s.location_id, "code": s.code, **s.phantom_explain()}
                   for s in self.locations if s.phantom_buffer]
        if buffers:
            out["phantom_stock_buffer"] = buffers
        return out


NO_POLICY = StockPolicy()


def promise(stocks: Iterable[LocationStock], policy: StockPolicy = NO_POLICY,
            incoming: IncomingPromise | None = None) -> Promise:
    """Sum what the locations have available and apply the channel's policy, step by step; then add what
    may be sold ahead of arrival when the policy promises incoming goods."""
    lines = tuple(stocks)
    total = sum(s.available for s in lines)
    steps, x = [], total
    for rule in policy.rules:
        after = rule.apply(x, total)
        steps.append(Step(rule.name, x, after, rule.note))
        x = after
    if incoming is None or not policy.promise_incoming:
        return Promise(total, x, lines, tuple(steps))
    return Promise(total, x + incoming.promised, lines, tuple(steps), incoming)


def promised_quantity(total_available: int, policy: StockPolicy = NO_POLICY) -> int:
    """The same number as ``promise(...).promised`` from a precomputed total (bulk queries)."""
    x = total_available = max(0, total_available)
    for rule in policy.rules:
        x = rule.apply(x, total_available)
    return x


def _whole(data: Mapping[str, Any], key: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidPolicy(f"{key} must be a whole number ≥ 0, not {value!r}")
    return value


def _flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise InvalidPolicy(f"{key} must be true or false, not {value!r}")
    return value


def _incoming_note(incoming: IncomingPromise) -> str:
    note = f"{incoming.on_order} on order"
    if incoming.cap is not None:
        note += f", pre-order cap {incoming.cap}"
    note += f", {incoming.preordered} already sold ahead"
    if incoming.expected_date:
        note += f"; expected from {incoming.expected_date.isoformat()}"
    return note


def _percent(share: Fraction) -> str:
    return str(int(share)) if share.denominator == 1 else f"{float(share):g}"


def _location_note(s: LocationStock) -> str:
    raw = s.on_hand - s.reserved - s.safety_stock - s.phantom_buffer
    note = f"{s.on_hand} on hand − {s.reserved} reserved − {s.safety_stock} safety stock"
    if s.phantom_buffer:
        note += f" − {s.phantom_buffer} phantom-stock buffer"
    note += f" = {raw}"
    return note if raw >= 0 else note + ", counted as 0"
