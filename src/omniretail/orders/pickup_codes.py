"""Pickup codes: six digits for the customer, kept by the hub only as an HMAC-SHA256 under the instance secret.

The plain code exists in one place: the ``ready_for_pickup`` message intent (and the e-mail/SMS made from it).
``fulfilment_order.pickup_code`` holds :func:`code_hash`; hand-over hashes what the customer says and compares
the two digests in constant time (:func:`matches`), so a database read does not reveal a code that works.

Curbside check-in links: the ``ready_for_pickup`` message of a curbside order carries a link to the customer's
"I'm here" page (``GET /curbside/{fulfilment_order_id}?token=…``, ``web/curbside_pages``), signed like the
decline link (``orders.decline``): HMAC-SHA256 under the instance secret over the fulfilment order and the
link's expiry — no sign-in, the token is the key. The page's form posts it back and calls the same
``fulfilment.check_in`` as ``POST /api/v1/fulfilment-orders/{id}/check-in``.
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import datetime

from omniretail.platform.crypto import sign
from omniretail.platform.errors import PermissionDenied

CONTEXT = "omniretail/pickup-code/v1:"
CHECK_IN_PATH = "/curbside/{fulfilment_order_id}"
CHECK_IN_DAYS = 30  # a link's life when the collect-by deadline is not known
CHECK_IN_GRACE = 86400  # a link outlives the deadline by a day (the page then says the order is gone)
CHECK_IN_ACTOR = "customer:check-in-link"  # who checks in, on the order's timeline


class InvalidCheckInLink(PermissionDenied):
    code, title = "invalid-check-in-link", "This link is not valid"


def new_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def code_hash(secret_key: str, code: str) -> str:
    """The stored form of a code: 64 hex characters."""
    return sign(secret_key, (CONTEXT + code.strip()).encode())


def matches(secret_key: str, stored_hash: str | None, given: str) -> bool:
    """Whether ``given`` is the code whose hash is stored (constant time; nothing stored never matches)."""
    expected = stored_hash or ""
    return hmac.compare_digest(expected.encode(), code_hash(secret_key, given).encode()) and bool(expected)


# --- curbside check-in links -------------------------------------------------------------------------------

def _check_in_signature(secret_key: str, fo_id: int, expires: str) -> str:
    return sign(secret_key, f"check-in:{fo_id}:{expires}".encode())


def check_in_token(fo_id: int, *, secret_key: str, until: datetime | None = None, now: float | None = None) -> str:
    """A token for fulfilment order ``fo_id``'s check-in page, valid a day past ``until`` (the collect-by
    deadline), else :data:`CHECK_IN_DAYS`."""
    now = time.time() if now is None else now
    expires = int(until.timestamp() + CHECK_IN_GRACE) if until is not None else int(now + CHECK_IN_DAYS * 86400)
    expires = max(expires, int(now + CHECK_IN_GRACE))
    return f"{expires}.{_check_in_signature(secret_key, fo_id, str(expires))}"


def check_check_in_token(fo_id: int, token: str, *, secret_key: str, now: float | None = None) -> None:
    """``InvalidCheckInLink`` unless ``token`` is ours for ``fo_id`` and not expired (``expired=True``)."""
    expires, _, signature = (token or "").strip().partition(".")
    if not expires.isdigit() or not signature:
        raise InvalidCheckInLink("this check-in link is malformed", field="token")
    if not hmac.compare_digest(_check_in_signature(secret_key, fo_id, expires), signature):
        raise InvalidCheckInLink("this check-in link is not valid for this order", field="token")
    if int(expires) < (time.time() if now is None else now):
        raise InvalidCheckInLink("this check-in link has expired; contact the store", field="token", expired=True)


def check_in_path(fo_id: int, token: str) -> str:
    """The customer's page for the token, without the address (``decline.absolute_url`` puts it on one)."""
    return f"{CHECK_IN_PATH.format(fulfilment_order_id=fo_id)}?token={token}"
