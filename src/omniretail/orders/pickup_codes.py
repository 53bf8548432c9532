"""Pickup codes: six digits for the customer, kept by the hub only as an HMAC-SHA256 under the instance secret.

The plain code exists in one place: the ``ready_for_pickup`` message intent (and the e-mail/SMS made from it).
``fulfilment_order.pickup_code`` holds :func:`code_hash`; hand-over hashes what the customer says and compares
the two digests in constant time (:func:`matches`), so a database read does not reveal a code that works.
"""

from __future__ import annotations

import hmac
import secrets

from omniretail.platform.crypto import sign

CONTEXT = "omniretail/pickup-code/v1:"


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(secret_key: str, code: str) -> str:
    """The stored form of a code: 64 hex characters."""
    return sign(secret_key, (CONTEXT + code.strip()).encode())


def matches(secret_key: str, stored_hash: str | None, given: str) -> bool:
    """Whether ``given`` is the code whose hash is stored (constant time; nothing stored never matches)."""
    expected = stored_hash or ""
    return hmac.compare_digest(expected.encode(), code_hash(secret_key, given).encode()) and bool(expected)
