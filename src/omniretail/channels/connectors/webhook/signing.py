"""Signed webhooks: how omniretail signs what it sends, and how a receiver checks it.

Every delivery is an HTTP POST with a JSON body ``{"id", "topic", "occurred_at", "data"}`` and these headers:

``X-Omniretail-Delivery``   the delivery id (a UUID, the same on every retry of one delivery): deduplicate on it
``X-Omniretail-Topic``      the topic (``orders.status_changed``, ``listing.inventory`` …)
``X-Omniretail-Timestamp``  Unix seconds when this attempt was signed
``X-Omniretail-Signature``  ``t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>``

A receiver verifies (:func:`verify`):

1. recompute ``HMAC-SHA256(secret, f"{t}.".encode() + raw_body)`` over the **raw** body bytes and compare it to
   ``v1`` in constant time (``hmac.compare_digest``);
2. refuse a timestamp more than 5 minutes from its clock (replay protection: an old signed request cannot be
   sent again later);
3. remember the delivery ids it has processed (at least the last 5 minutes' worth) and answer 2xx without
   acting on a repeated one: retries after a timeout send the same id.

Several ``v1=`` values may appear while a secret is being rotated; any match is enough. Orders a custom shop or
ERP sends to omniretail go the other way, through the documented API: ``POST /api/v1/orders/import`` with an
integration token (``Authorization: Bearer …``) and an ``Idempotency-Key``; the same (channel, external_id) is
one order, and a higher ``revision`` updates it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Omniretail-Signature"
TIMESTAMP_HEADER = "X-Omniretail-Timestamp"
DELIVERY_HEADER = "X-Omniretail-Delivery"
TOPIC_HEADER = "X-Omniretail-Topic"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signed_headers(secret: str, *, body: bytes, delivery_id: str, topic: str, now: float | None = None
                   ) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery_id,
        TOPIC_HEADER: topic,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"t={timestamp},v1={signature(secret, timestamp, body)}",
    }


def parse(header: str) -> tuple[int | None, list[str]]:
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                return None, []
        elif key == "v1" and value:
            signatures.append(value)
    return timestamp, signatures


def verify(secret: str, *, body: bytes, header: str, now: float | None = None,
           tolerance: float = TOLERANCE_S) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within ``tolerance`` seconds."""
    timestamp, signatures = parse(header or "")
    if timestamp is None or not signatures:
        return False
    if abs((now if now is not None else time.time()) - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in signatures)
