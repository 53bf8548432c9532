"""What every HTTP connector does the same way: send, time out, read ``Retry-After``, classify failures."""

from __future__ import annotations

import email.utils
import time
from typing import Any

import httpx

from .base import ChannelRejected, ChannelUnavailable, RateLimited

DEFAULT_RETRY_AFTER_S = 5.0
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def retry_after(response: httpx.Response, default: float = DEFAULT_RETRY_AFTER_S) -> float:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    value = response.headers.get("retry-after")
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, when.timestamp() - time.time())


def body_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {"text": response.text[:2000]}


def check_transport(response: httpx.Response, *, what: str) -> None:
    """Raise for answers that concern the whole call: 429, 5xx, 401/403. Other 4xx are left to the caller."""
    status = response.status_code
    if status == 429:
        raise RateLimited(f"{what}: 429 Too Many Requests", retry_after=retry_after(response),
                          answer=body_of(response))
    if status >= 500:
        raise ChannelUnavailable(f"{what}: {status} {response.reason_phrase}", status=status, answer=body_of(response))
    if status in (401, 403):
        raise ChannelRejected(f"{what}: {status} {response.reason_phrase}", status=status, answer=body_of(response))


async def send(http: httpx.AsyncClient, method: str, url: str, *, what: str, **kwargs: Any) -> httpx.Response:
    """One request; network failures and timeouts become :class:`ChannelUnavailable`."""
    kwargs.setdefault("timeout", TIMEOUT)
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise ChannelUnavailable(f"{what}: timed out ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise ChannelUnavailable(f"{what}: {type(exc).__name__}: {exc}") from exc
    check_transport(response, what=what)
    return response


def error_text(answer: Any) -> str:
    """A short human reading of an error body (Allegro ``ErrorsHolder``, GraphQL ``errors``, or text)."""
    if isinstance(answer, dict):
        errors = answer.get("errors") or answer.get("userErrors")
        if isinstance(errors, list) and errors:
            parts = []
            for e in errors[:5]:
                if isinstance(e, dict):
                    parts.append(str(e.get("userMessage") or e.get("message") or e.get("code") or e))
                else:
                    parts.append(str(e))
            return "; ".join(parts)
        if "text" in answer:
            return str(answer["text"])[:500]
    return str(answer)[:500]
