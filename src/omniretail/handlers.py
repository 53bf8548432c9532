"""The modules whose ``@handles`` consumers and ``@every`` jobs the worker runs. Add a package's ``tasks`` here.

``platform`` imports no domain package, so the worker is handed this list by its callers (the CLI and the app).
"""

from __future__ import annotations

import importlib

from omniretail.platform.jobs import Registry, registry

MODULES = (
    "omniretail.notifications.tasks",
    "omniretail.channels.sync.tasks",
    "omniretail.orders.messages",
    "omniretail.channels.feeds.tasks",
    "omniretail.inventory.tasks",
    "omniretail.orders.tasks",
    "omniretail.orders.promise_tasks",
    "omniretail.orders.ship_to_store_tasks",
    "omniretail.orders.waves",
    "omniretail.background_jobs",
    "omniretail.orders.escalation_alerts",
    "omniretail.platform.outbox_retention",
)


def load() -> Registry:
    """Import every handler module (registering its consumers and jobs) and return the registry."""
    for module in MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # a package still being written must not stop the others
            if exc.name != module:
                raise
    return registry
