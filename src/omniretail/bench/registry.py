"""Benchmark scenarios behind ``omniretail bench``. Each package adds its scenario module to ``_MODULES``."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    run: Callable[..., dict[str, Any]]  # run(scale: int | None, database_url: str | None) -> result dict


SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str, description: str):
    def register(fn: Callable[..., dict[str, Any]]):
        SCENARIOS[name] = Scenario(name, description, fn)
        return fn

    return register


_MODULES = ("omniretail.bench.catalog_import", "omniretail.bench.reserve", "omniretail.bench.availability",
            "omniretail.bench.routing", "omniretail.bench.orders", "omniretail.bench.feed",
            "omniretail.bench.sync", "omniretail.bench.store_queue", "omniretail.bench.pick_rejection")

for _module in _MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a scenario still being written must not break the others
        if exc.name != _module:
            raise
