from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.pricing.rules import (
    ListCandidate,
    PriceRow,
    Verdict,
    Window,
    check_window,
    resolve_price,
    window_at,
)

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def candidate(id_: int, *, priority: int = 0, amount: int | None = 1000, channel_id: int | None = 1,
              currency: str = "PLN", **fields) -> ListCandidate:
    price_fields = {k[6:]: fields.pop(k) for k in list(fields) if k.startswith("price_")}
    price = None if amount is None else PriceRow(id=id_ * 100, amount_minor=amount, **price_fields)
    return ListCandidate(id=id_, code=f"L{id_}", priority=priority, currency=currency, channel_id=channel_id,
                         price=price, **fields)


def verdicts(resolution) -> dict[int, Verdict]:
    return {c.candidate.id: c.verdict for c in resolution.considered}


def test_window_includes_start_and_excludes_end():
    assert window_at(T0, T0 + DAY, T0) is Window.OPEN
    assert window_at(T0, T0 + DAY, T0 + DAY) is Window.ENDED
    assert window_at(T0, None, T0 - timedelta(seconds=1)) is Window.NOT_STARTED
    assert window_at(None, None, T0) is Window.OPEN


def test_check_window_refuses_empty_or_inverted_windows():
    check_window(T0, T0 + DAY)
    check_window(None, T0)
    with pytest.raises(ValueError):
        check_window(T0, T0)
    with pytest.raises(ValueError):
        check_window(T0 + DAY, T0)


def test_highest_priority_wins_and_the_rest_are_outranked():
    r = resolve_price([candidate(1, priority=0, amount=1000), candidate(2, priority=10, amount=800)],
                      currency="PLN", at=T0)
    assert r.winner.id == 2
    assert verdicts(r) == {2: Verdict.SELECTED, 1: Verdict.OUTRANKED}
    assert [c.candidate.id for c in r.considered] == [2, 1]  # best first


def test_channel_list_beats_shared_list_at_equal_priority_then_older_list():
    shared = candidate(1, channel_id=None, priority=5)
    own = candidate(3, priority=5)
    older_own = candidate(2, priority=5)
    r = resolve_price([shared, own, older_own], currency="PLN", at=T0)
    assert [c.candidate.id for c in r.considered] == [2, 3, 1]
    assert r.winner.id == 2


def test_a_promotion_list_applies_only_inside_its_window():
    base = candidate(1, priority=0, amount=1000)
    promo = candidate(2, priority=10, amount=799, valid_from=T0, valid_to=T0 + DAY)
    before = resolve_price([base, promo], currency="PLN", at=T0 - timedelta(minutes=1))
    during = resolve_price([base, promo], currency="PLN", at=T0 + timedelta(hours=1))
    after = resolve_price([base, promo], currency="PLN", at=T0 + DAY)
    assert before.winner.id == 1 and verdicts(before)[2] is Verdict.LIST_NOT_STARTED
    assert during.winner.id == 2 and verdicts(during)[1] is Verdict.OUTRANKED
    assert after.winner.id == 1 and verdicts(after)[2] is Verdict.LIST_ENDED


def test_a_price_row_outside_its_window_falls_through_to_the_next_list():
    base = candidate(1, priority=0, amount=1000)
    promo = candidate(2, priority=10, amount=799, price_valid_from=T0 + DAY)
    expired = candidate(3, priority=20, amount=500, price_valid_to=T0)
    r = resolve_price([base, promo, expired], currency="PLN", at=T0)
    assert r.winner.id == 1
    assert verdicts(r) == {3: Verdict.PRICE_ENDED, 2: Verdict.PRICE_NOT_STARTED, 1: Verdict.SELECTED}


def test_inactive_lists_lists_without_the_variant_and_other_currencies_are_skipped():
    r = resolve_price([
        candidate(1, priority=1, amount=1000),
        candidate(2, priority=9, is_active=False),
        candidate(3, priority=8, amount=None),
        candidate(4, priority=7, currency="EUR"),
    ], currency="PLN", at=T0)
    assert r.winner.id == 1
    assert verdicts(r) == {2: Verdict.LIST_INACTIVE, 3: Verdict.NO_PRICE, 4: Verdict.CURRENCY_MISMATCH,
                           1: Verdict.SELECTED}


def test_nothing_eligible_means_no_winner_but_every_reason_is_kept():
    r = resolve_price([candidate(1, amount=None), candidate(2, is_active=False)], currency="PLN", at=T0)
    assert r.winner is None
    assert set(verdicts(r).values()) == {Verdict.NO_PRICE, Verdict.LIST_INACTIVE}
    assert resolve_price([], currency="PLN", at=T0).winner is None


@given(st.lists(st.tuples(st.integers(-5, 5), st.booleans(), st.booleans(), st.booleans()), max_size=8))
def test_the_winner_is_the_best_ranked_eligible_list(specs):
    lists = [candidate(i + 1, priority=p, is_active=active, channel_id=None if shared else 1,
                       amount=1000 + i if priced else None)
             for i, (p, active, shared, priced) in enumerate(specs)]
    r = resolve_price(lists, currency="PLN", at=T0)
    eligible = [c for c in lists if c.is_active and c.price is not None]
    selected = [c for c in r.considered if c.verdict is Verdict.SELECTED]
    assert len(selected) == (1 if eligible else 0)
    assert len(r.considered) == len(lists)
    if eligible:
        best = min(eligible, key=lambda c: (-c.priority, c.channel_id is None, c.id))
        assert r.winner == best
        assert all(c.verdict is Verdict.OUTRANKED for c in r.considered
                   if c.candidate in eligible and c.candidate is not best)
