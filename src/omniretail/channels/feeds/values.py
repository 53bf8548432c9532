"""Database values → the text forms Google's specification asks for (shared by both feeds; no I/O)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import orjson

from omniretail.platform.money import minor_digits

from . import queries
from .validation import WARNING, Issue

_URL_SAFE = ":/?#[]@!$&'()*+,;=%~"
_SAFE_PART = re.compile(r"[A-Za-z0-9._~-]+")
_PLACEHOLDERS = {"product_code": "P", "sku": "S", "variant_id": 1, "product_id": 1}


def google_datetime(value: datetime) -> str:
    """``2026-12-25T13:00+0100``: ISO 8601 as the specification writes it (answer/6324470)."""
    return value.strftime("%Y-%m-%dT%H:%M%z")


def money_text(minor: int, digits: int, currency: str) -> str:
    """``1500`` → ``15.00 PLN`` without Decimal arithmetic (hot path)."""
    if digits == 0:
        return f"{minor} {currency}"
    scale = 10 ** digits
    return f"{minor // scale}.{minor % scale:0{digits}d} {currency}"


def stored_datetime(value: str) -> datetime:
    """A timestamp as JSON carries it: PostgreSQL with its offset, SQLite naive UTC (``platform.models``)."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


class PriceAttributes:
    """``price``/``sale_price``/``sale_price_effective_date`` from the page's ``price`` column, the JSON array
    ``[amount_minor, compare_at_minor, valid_from, valid_to]`` of the winning price row (or NULL: no price)."""

    def __init__(self, ctx: queries.FeedContext) -> None:
        self.currency, self.digits, self.at = ctx.currency, minor_digits(ctx.currency), ctx.at

    def apply(self, raw: str | None, item: dict[str, Any], issues: list[Issue]) -> None:
        if raw is None:
            return
        amount, compare, starts, ends = orjson.loads(raw)
        if compare is None:
            item["price"] = money_text(amount, self.digits, self.currency)
        elif compare <= amount:  # pricing refuses this on input; say so rather than publish a false sale
            item["price"] = money_text(amount, self.digits, self.currency)
            issues.append(Issue(item.get("id", ""), "sale_price", "the compare-at price is not above the "
                                "price, so no sale_price is sent", WARNING))
        else:
            item["price"] = money_text(compare, self.digits, self.currency)
            item["sale_price"] = money_text(amount, self.digits, self.currency)
            if ends is not None:
                begins = stored_datetime(starts) if starts else self.at
                item["sale_price_effective_date"] = (f"{google_datetime(begins)}/"
                                                     f"{google_datetime(stored_datetime(ends))}")


def declared(key: str, variant_attributes: dict, product_attributes: dict) -> Any:
    value = variant_attributes.get(key)
    return value if value not in (None, "") else product_attributes.get(key)


def availability_date_text(value: Any) -> str:
    """The attribute as written, normalised to the specification's form when it parses."""
    text = str(value).strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return text  # validation reports it
    return google_datetime(parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC))  # naive: UTC


def url_part(value: str) -> str:
    """A path or query value, percent-encoded (codes and SKUs are usually safe already: no copy then)."""
    return value if _SAFE_PART.fullmatch(value) else quote(value, safe="")


def ascii_url(url: str) -> str:
    return url if url.isascii() else quote(url, safe=_URL_SAFE)


def check_url_template(template: str | None) -> str:
    """The channel's ``product_url_template``, or ValueError saying what is wrong with it."""
    if not template:
        raise ValueError("set product_url_template in the channel settings, "
                         "e.g. https://shop.example/p/{product_code}?variant={sku}")
    try:
        template.format(**_PLACEHOLDERS)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"product_url_template {template!r} may use only "
                         f"{', '.join('{' + p + '}' for p in _PLACEHOLDERS)}") from exc
    return template


def json_object(raw: str | None) -> dict:
    if not raw or raw == "{}":
        return {}
    value = orjson.loads(raw)
    return value if isinstance(value, dict) else {}
