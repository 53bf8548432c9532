"""The worker's pure rules: back-off with jitter, topic prefixes, coalescing opt-in, job registration."""

from __future__ import annotations

import random

import pytest

from omniretail.platform.backoff import backoff_delay
from omniretail.platform.jobs import Registry


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half():
    rng = random.Random(7)
    for attempts, nominal in ((1, 2), (2, 4), (3, 8), (6, 64), (20, 600)):
        delays = [backoff_delay(attempts, base=2, cap=600, rng=rng).total_seconds() for _ in range(200)]
        assert all(nominal / 2 <= d <= nominal for d in delays)
        assert max(delays) - min(delays) > nominal / 4  # really spread, not one value


def test_prefixes_match_whole_segments():
    registry = Registry()

    async def consumer(session, event):
        return None

    registry.handles("orders.notify")(consumer)
    assert [c.fn for c in registry.consumers_for("orders.notify")] == [consumer]
    assert registry.consumers_for("orders.notify.sms")
    assert not registry.consumers_for("orders.notify_later")
    assert not registry.consumers_for("orders")
    registry.handles("orders.notify")(consumer)  # importing a module twice registers once
    assert len(registry.consumers) == 1
    with pytest.raises(ValueError):
        registry.handles("orders.")


def test_coalescing_needs_every_consumer_to_agree():
    registry = Registry()

    async def newest_only(session, event):
        return None

    async def every_one(session, event):
        return None

    registry.handles("inventory.stock_changed", coalesce=True)(newest_only)
    assert registry.coalesces("inventory.stock_changed")
    registry.handles("inventory")(every_one)
    assert not registry.coalesces("inventory.stock_changed")


def test_periodic_jobs_are_named_once():
    registry = Registry()

    async def job(context):
        return None

    async def other(context):
        return None

    registry.every(60, "inventory.expire_holds")(job)
    registry.every(60, "inventory.expire_holds")(job)
    with pytest.raises(ValueError):
        registry.every(60, "inventory.expire_holds")(other)
    with pytest.raises(ValueError):
        registry.every(0, "x.y")
