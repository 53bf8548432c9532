"""Retry delays: exponential, capped, with jitter so failed work does not come back in lockstep."""

from __future__ import annotations

import random
from datetime import timedelta


def backoff_delay(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> timedelta:
    """The wait before attempt ``attempts + 1``: ``min(cap, base · 2^(attempts-1))``, "equal jitter".

    Half of the exponential delay is kept and the other half drawn at random, so a retry never comes sooner
    than half the nominal delay and many failures at once spread out instead of retrying together.
    """
    nominal = min(cap, base * 2 ** max(attempts - 1, 0))
    draw = (rng or random).uniform(0, nominal / 2)
    return timedelta(seconds=nominal / 2 + draw)
