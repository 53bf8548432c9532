"""The per-process channel policy cache: served within its time, and channel scope still applies."""

import asyncio

import pytest

from omniretail.inventory import atp
from omniretail.platform import ttl_cache
from omniretail.platform.errors import NotFound


class _FakeSession:
    def __init__(self):
        self.calls = 0

    async def execute(self, _stmt, _params):
        self.calls += 1

        class _Row:
            id, code, stock_policy, location_id = 7, "web", {"buffer": 1}, 3

        class _Result:
            def all(self):
                return [_Row()]

        return _Result()


def test_cache_serves_within_its_time_and_keeps_scope(monkeypatch):
    monkeypatch.setattr(ttl_cache, "_enabled", True)
    atp._channel_cache.clear()
    session = _FakeSession()
    first = asyncio.run(atp.channel_stock(session, "web"))
    second = asyncio.run(atp.channel_stock(session, "web"))
    assert first is second and session.calls == 1 and first.location_ids == (3,)
    with pytest.raises(NotFound):
        asyncio.run(atp.channel_stock(session, "web", channel_scope=frozenset({99})))
    atp._channel_cache.clear()
