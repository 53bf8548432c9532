"""What every fake channel server shares: a token bucket answering 429 with Retry-After, latency, a request log."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Bucket:
    """Tokens per second up to ``burst``; ``take`` returns 0 or the seconds until enough tokens."""

    rate: float
    burst: float
    tokens: float = -1.0
    at: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def take(self, cost: float = 1.0) -> float:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens >= cost:
                self.tokens -= cost
                return 0.0
            return (cost - self.tokens) / self.rate


@dataclass
class Behaviour:
    """Knobs a test turns: latency, forced 429s and 5xx, rate limits."""

    latency_s: tuple[float, float] = (0.0, 0.0)
    force_429: int = 0  # answer the next N calls with 429
    retry_after_s: float = 1.0
    force_500: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)

    async def delay(self) -> None:
        low, high = self.latency_s
        if high > 0:
            await asyncio.sleep(random.uniform(low, high))

    def take_forced(self) -> int | None:
        if self.force_429 > 0:
            self.force_429 -= 1
            return 429
        if self.force_500 > 0:
            self.force_500 -= 1
            return 500
        return None
