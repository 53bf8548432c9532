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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
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

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.reserved - self.safety_stock)


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

    KEYS = ("buffer", "share_percent", "keep_last", "cap", "round_down_to", "show_zero_below")

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
        return out

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
class Promise:
    """What a channel may promise for one variant, with the reasoning."""

    available: int  # Σ available over the locations considered
    promised: int
    locations: tuple[LocationStock, ...]
    steps: tuple[Step, ...]

    def explain(self) -> dict[str, Any]:
        return {
            "locations": [
                {"location_id": s.location_id, "code": s.code, "on_hand": s.on_hand, "reserved": s.reserved,
                 "safety_stock": s.safety_stock, "available": s.available,
                 "note": _location_note(s)}
                for s in self.locations
            ],
            "steps": [{"rule": "sum", "before": 0, "after": self.available,
                       "note": f"available summed over {len(self.locations)} location(s)"}]
            + [{"rule": s.rule, "before": s.before, "after": s.after, "note": s.note} for s in self.steps],
            "promised": self.promised,
        }


NO_POLICY = StockPolicy()


def promise(stocks: Iterable[LocationStock], policy: StockPolicy = NO_POLICY) -> Promise:
    """Sum what the locations have available and apply the channel's policy, step by step."""
    lines = tuple(stocks)
    total = sum(s.available for s in lines)
    steps, x = [], total
    for rule in policy.rules:
        after = rule.apply(x, total)
        steps.append(Step(rule.name, x, after, rule.note))
        x = after
    return Promise(total, x, lines, tuple(steps))


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


def _percent(share: Fraction) -> str:
    return str(int(share)) if share.denominator == 1 else f"{float(share):g}"


def _location_note(s: LocationStock) -> str:
    raw = s.on_hand - s.reserved - s.safety_stock
    note = f"{s.on_hand} on hand − {s.reserved} reserved − {s.safety_stock} safety stock = {raw}"
    return note if raw >= 0 else note + ", counted as 0"
