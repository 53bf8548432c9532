"""Small per-process caches of rarely changing rows that every hot request reads (a channel's policy and
locations): served for ``seconds`` after they were read, so a change reaches every answer within that time.

Every cache registers itself, so tests (which reuse ids across rolled-back transactions) can turn them all off
with :func:`set_enabled`.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

# A channel's settings, policy and locations: every hot request reads them, they change rarely; a change reaches
# every answer within this time (availability, order placement).
CHANNEL_SECONDS = 2.0

_ALL: list[TtlCache] = []
_enabled = True


class TtlCache(Generic[V]):
    def __init__(self, seconds: float, *, max_entries: int = 1000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[float, V]] = {}
        _ALL.append(self)

    def get(self, key: Hashable) -> V | None:
        hit = self._entries.get(key)
        if hit is None or not _enabled:
            return None
        if hit[0] <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return hit[1]

    def put(self, key: Hashable, value: V) -> V:
        if _enabled and self.seconds > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic() + self.seconds, value)
        return value

    def clear(self) -> None:
        self._entries.clear()


def set_enabled(enabled: bool) -> None:
    """Turn every cache on or off (off: each read goes to the database); clears them either way."""
    global _enabled
    _enabled = enabled
    for cache in _ALL:
        cache.clear()
