"""Channel connectors: an abstract base (``base.Connector``) and one package per platform.

Which connector serves a channel: ``settings.connector`` when set, else the channel kind's default
(``marketplace_allegro`` → allegro, ``custom`` → webhook). Channels with neither (POS, the native webshop, Google
feeds) have no connector: the sync engine leaves them alone. ``settings.connector = "none"`` switches a
marketplace's connector off (e.g. until its API credentials are entered).
"""

from __future__ import annotations

import importlib
from typing import Any

from .base import Connector

CONNECTORS: dict[str, tuple[str, str]] = {
    "allegro": ("omniretail.channels.connectors.allegro", "AllegroConnector"),
    "shopify": ("omniretail.channels.connectors.shopify", "ShopifyConnector"),
    "webhook": ("omniretail.channels.connectors.webhook", "WebhookConnector"),
}
KIND_DEFAULTS = {"marketplace_allegro": "allegro", "custom": "webhook"}


def connector_name(kind: str, settings: dict[str, Any] | None) -> str | None:
    name = (settings or {}).get("connector") or KIND_DEFAULTS.get(kind)
    return name if name in CONNECTORS else None


def connector_class(name: str) -> type[Connector]:
    module, attribute = CONNECTORS[name]
    return getattr(importlib.import_module(module), attribute)
