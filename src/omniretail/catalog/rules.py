"""Catalog rules with no I/O: codes, category paths, media URLs, VAT rates, statuses.

Shared by the API schemas and the CSV import, so both say the same thing about the same value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from urllib.parse import urlsplit

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
CODE_RE = re.compile(CODE_PATTERN)
_SPACE = re.compile(r"\s")
CODE_HINT = "letters, digits, '.', '_' and '-', starting with a letter or digit"

# Column widths of the catalog tables (models.py); the schemas and the CSV import check against these.
MAX_CODE = 64
MAX_SKU = 64
MAX_TITLE = 300
MAX_BRAND = 120
MAX_MPN = 70
MAX_CATEGORY = 200
MAX_URL = 1000
MAX_ALT = 300
MAX_DESCRIPTION = 20_000
MAX_OPTION_VALUE = 200
MAX_ATTRIBUTE_VALUE = 2_000
MAX_NAME = 60  # option and attribute names
DEFAULT_VAT_RATE = Decimal("0.23")


class ProductStatus(StrEnum):
    ACTIVE = "active"
    DRAFT = "draft"
    ARCHIVED = "archived"


STATUSES = tuple(s.value for s in ProductStatus)


def fold_case(value: str) -> str:
    """Text lower-cased for a case-insensitive search, as SQL ``LOWER()`` does it: PostgreSQL's is Unicode-aware,
    and on SQLite (whose own folds ASCII only) ``platform/db.py`` installs this same function as ``lower``, so a
    pattern folded here matches a column folded there ("Śpiwór" finds "śpiwór" and "ŚPIWÓR").

    The Turkish capital dotted İ folds to a plain ``i`` (as PostgreSQL's ``lower()`` does with the libc
    locale provider; Python alone would add a combining dot). The dotless ``ı`` stays itself and ``I`` folds to ``i``
    — a known edge: "ılık" does not find "ILIK" on either database, since no locale-free folding knows which
    language a title is in."""
    return value.replace("\u0130", "i").lower()


def check_code(value: str, what: str = "code", max_length: int = MAX_CODE) -> str:
    """A product code or SKU: raise ValueError saying what is wrong."""
    if not value:
        raise ValueError(f"{what} is empty")
    if len(value) > max_length:
        raise ValueError(f"{what} is too long ({len(value)} characters, at most {max_length})")
    if not CODE_RE.match(value):
        raise ValueError(f"{what} {value!r} may contain only {CODE_HINT}")
    return value


def check_status(value: str) -> str:
    if value not in STATUSES:
        raise ValueError(f"status {value!r} is not one of {', '.join(STATUSES)}")
    return value


def category_names(path: str) -> list[str]:
    """'Shoes/Running' -> ['Shoes', 'Running']; empty segments are an error."""
    names = [part.strip() for part in path.split("/")]
    if not path.strip():
        return []
    if any(not name for name in names):
        raise ValueError(f"category {path!r} has an empty segment; write it like 'Shoes/Running'")
    if len("/".join(names)) > MAX_CATEGORY:
        raise ValueError(f"category path is too long (at most {MAX_CATEGORY} characters)")
    return names


def category_code(names: list[str]) -> str:
    """The stored key of a category: its lower-cased path ('shoes/running')."""
    return "/".join(name.lower() for name in names)


def normalise_category(path: str | None) -> str | None:
    """The path as it will be shown ('Shoes/Running'), or None for no category."""
    if path is None:
        return None
    names = category_names(path)
    return "/".join(names) or None


def check_media_url(url: str) -> str:
    url = url.strip()
    if len(url) > MAX_URL:
        raise ValueError(f"URL is too long ({len(url)} characters, at most {MAX_URL})")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc or _SPACE.search(url):
        raise ValueError(f"{url!r} is not an http(s) URL")
    return url


def parse_vat_rate(value: str | Decimal | int) -> Decimal:
    """A VAT rate as a fraction: '0.23' for 23 %."""
    try:
        rate = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"VAT rate {value!r} is not a number (write 0.23 for 23 %)") from exc
    return check_vat_rate(rate)


def check_vat_rate(rate: Decimal) -> Decimal:
    if not rate.is_finite() or rate < 0 or rate >= 1:
        raise ValueError(f"VAT rate {rate} must be a fraction from 0 to below 1 (0.23 for 23 %)")
    if rate != rate.quantize(Decimal("0.0001")):
        raise ValueError(f"VAT rate {rate} has more than 4 decimal places")
    return rate


def parse_weight(value: str) -> int:
    try:
        grams = int(value.strip())
    except ValueError as exc:
        raise ValueError(f"weight {value!r} is not a whole number of grams") from exc
    if grams < 0:
        raise ValueError(f"weight {grams} must not be negative")
    return grams
