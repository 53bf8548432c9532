"""Token buckets: never more than the burst plus what the rate refills; 429 blocks; waits are honest."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.channels.sync.ratelimit import LocalLimiter, RateLimit, Throttled, TokenBucket


def test_a_full_bucket_gives_its_burst_then_waits_for_the_rate():
    bucket = TokenBucket(rate=10, burst=5, refreshed=0.0)
    assert [bucket.take(1, 0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.take(1, 0.0) == pytest.approx(0.1)
    assert bucket.take(1, 0.1) == 0.0
    assert bucket.take(3, 0.1) == pytest.approx(0.3)


def test_a_block_holds_until_it_ends_whatever_the_tokens():
    bucket = TokenBucket(rate=100, burst=100, refreshed=0.0)
    bucket.block(30.0)
    assert bucket.take(1, 10.0) == pytest.approx(20.0)
    assert bucket.take(1, 30.0) == 0.0


def test_a_call_bigger_than_the_bucket_waits_for_a_full_bucket_not_forever():
    bucket = TokenBucket(rate=1, burst=10, tokens=0, refreshed=0.0)
    assert bucket.take(50, 0.0) == pytest.approx(10.0)
    assert bucket.take(50, 10.0) == 0.0


def test_the_channel_can_say_what_is_left():
    bucket = TokenBucket(rate=50, burst=1000, refreshed=0.0)
    bucket.set_available(120, now=1.0)
    assert bucket.take(120, 1.0) == 0.0
    assert bucket.take(50, 1.0) == pytest.approx(1.0)


@given(st.lists(st.tuples(st.floats(0, 2), st.integers(1, 20)), max_size=200),
       st.floats(1, 100), st.floats(1, 200))
def test_what_is_granted_never_exceeds_burst_plus_rate_times_time(calls, rate, burst):
    bucket = TokenBucket(rate=rate, burst=burst, refreshed=0.0)
    now, granted = 0.0, 0.0
    for step, cost in calls:
        now += step
        if bucket.take(cost, now) == 0.0:
            granted += min(cost, burst)
    assert granted <= burst + rate * now + 1e-6


async def test_the_local_limiter_waits_a_little_and_throttles_beyond_its_patience():
    clock = {"t": 0.0}
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        clock["t"] += seconds

    limiter = LocalLimiter({"requests": RateLimit(rate=2, burst=2)}, clock=lambda: clock["t"], sleep=sleep,
                           max_wait=1.0)
    assert await limiter.acquire("requests") == 0.0
    assert await limiter.acquire("requests") == 0.0
    assert await limiter.acquire("requests") == pytest.approx(0.5)
    await limiter.block(10.0)
    with pytest.raises(Throttled) as raised:
        await limiter.acquire("requests")
    assert raised.value.retry_after == pytest.approx(10.0)
    assert await limiter.acquire("unknown-bucket", 1e6) == 0.0  # no limit declared: no wait
    assert asyncio.iscoroutinefunction(limiter.acquire)
