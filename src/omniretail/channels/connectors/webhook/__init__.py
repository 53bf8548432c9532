"""Generic webhook/REST channel: HMAC-signed webhooks out (listing state and relayed hub events)."""

from .connector import WebhookConnector

__all__ = ["WebhookConnector"]
