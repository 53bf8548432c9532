"""Check a feed item against Google's rules before it is published. Pure: no database, no clock.

An item is a dict of attribute name → text (``additional_image_link`` holds a list). Severity:

* ``error``: Google would reject or disapprove the item (a required attribute missing or malformed, a wrong
  product identifier, a price in another currency …). The item is left out of the feed and listed in the report.
* ``warning``: an optional attribute breaks a rule. The validator removes that attribute from the item (the
  item is published without it) and says so; or the data is odd but acceptable (a preorder date in the past).

Each rule names the documentation it comes from (``answer/N``: support.google.com/merchants/answer/N; limits
and allowed values live in ``spec``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, NamedTuple

from omniretail.catalog.gtin import GtinError, normalise_gtin

from . import spec

ERROR = "error"
WARNING = "warning"

_PRICE = re.compile(r"^(\d+)(?:\.(\d+))? ([A-Z]{3})$")  # "15.00 PLN": number plus ISO 4217 code (answer/6324471)
# ISO 8601 as Google writes it: YYYY-MM-DDThh:mm[:ss][±hhmm | ±hh:mm | Z] (answer/6324470, answer/6324460)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})$")
_WEIGHT = re.compile(r"^\d+(?:\.\d+)? (?:" + "|".join(spec.WEIGHT_UNITS) + r")$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_HTTP_URL = re.compile(r"https?://[^\s/?#@]+(?:[/?#]\S*)?\Z", re.IGNORECASE)  # scheme, host, no whitespace
_SPACE = re.compile(r"\s")


class Issue(NamedTuple):
    """One finding about one item: what the report shows."""

    id: str
    attribute: str
    message: str
    severity: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "attribute": self.attribute, "message": self.message, "severity": self.severity}


def has_errors(issues: list[Issue]) -> bool:
    return any(issue.severity == ERROR for issue in issues)


# --- single-value rules: each returns what is wrong, or None ---------------------------------------------

def text_problem(value: str | None, limit: int, *, required: bool = True) -> str | None:
    if not value or not value.strip():
        return "is required" if required else None
    if len(value) > limit:
        return f"is {len(value)} characters long; at most {limit}"
    return None


def url_problem(value: str | None) -> str | None:
    """An http(s) URL, ASCII only, ≤ 2,000 characters (answer/6324370 for images; link likewise)."""
    if not value:
        return "is required"
    if len(value) > spec.MAX_URL:
        return f"is {len(value)} characters long; at most {spec.MAX_URL}"
    if _HTTP_URL.match(value) and value.isascii():
        return None
    if not value.isascii() or _SPACE.search(value):
        return f"{value!r} must be ASCII without spaces (percent-encode other characters)"
    return f"{value!r} must start with http:// or https:// and name a host"


def price_problem(value: str | None, currency: str) -> str | None:
    """``<amount> <ISO 4217>`` in the channel's currency, above zero (answer/6324471)."""
    if not value:
        return "is required"
    match = _PRICE.match(value)
    if match is None:
        return f"{value!r} must look like '15.00 {currency}'"
    if match.group(3) != currency:
        return f"currency {match.group(3)} differs from the channel's currency {currency}"
    if int(match.group(1)) == 0 and not (match.group(2) or "").strip("0"):
        return "must be greater than 0"
    return None


def price_amount(value: str) -> float:
    return float(value.split(" ", 1)[0])


def gtin_problem(value: str) -> str | None:
    """8, 12, 13 or 14 digits with a valid GS1 check digit (answer/6324461; reference/channels.md)."""
    if not value.isdigit():
        return f"GTIN {value!r} must contain digits only"
    if len(value) in spec.GTIN_LENGTHS and gs1_check_digit(value[:-1]) == value[-1]:
        return None
    try:  # python-stdnum (catalog.gtin) says precisely what is wrong
        normalise_gtin(value)
    except GtinError as exc:
        return str(exc)
    return f"GTIN {value!r} must have 8, 12, 13 or 14 digits"


def gs1_check_digit(body: str) -> str:
    """From the rightmost digit, weights 3, 1, 3, 1 …; check = (10 − sum mod 10) mod 10."""
    odd, even = body[-1::-2], body[-2::-2]  # digits only: their ASCII codes minus 48
    total = 3 * (sum(odd.encode()) - 48 * len(odd)) + sum(even.encode()) - 48 * len(even)
    return str((10 - total % 10) % 10)


def parse_datetime(value: str) -> datetime | None:
    """A date-time in Google's ISO 8601 form, or None when it is not one."""
    if not _DATETIME.match(value):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def one_year_after(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year + 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + 1, day=28)


def effective_date_problem(value: str) -> str | None:
    """Two date-times ``start/end``, start before end, ≤ 51 characters (answer/6324460)."""
    if len(value) > spec.MAX_SALE_PRICE_EFFECTIVE_DATE:
        return f"is {len(value)} characters long; at most {spec.MAX_SALE_PRICE_EFFECTIVE_DATE}"
    start_text, slash, end_text = value.partition("/")
    start, end = parse_datetime(start_text), parse_datetime(end_text)
    if not slash or start is None or end is None:
        return f"{value!r} must be two ISO 8601 date-times separated by '/'"
    if start >= end:
        return "the sale must end after it starts"
    return None


# --- the product feed ---------------------------------------------------------------------------------

def validate_product_item(item: dict[str, Any], *, currency: str, now: datetime) -> list[Issue]:
    """Every rule for one product feed item; removes optional attributes that fail (see module docstring)."""
    item_id = item.get("id") or ""
    issues: list[Issue] = []

    def error(attribute: str, message: str) -> None:
        issues.append(Issue(item_id, attribute, message, ERROR))

    def drop(attribute: str, message: str) -> None:
        item.pop(attribute, None)
        issues.append(Issue(item_id, attribute, message + "; left out of the item", WARNING))

    # Required attributes (answer/7052112): id ≤ 50, title ≤ 150 (answer/6324415), description ≤ 5,000.
    if (problem := text_problem(item_id, spec.MAX_ID)) or (problem := _control(item_id)):
        error("id", f"id {problem}")
    for attribute, limit in (("title", spec.MAX_TITLE), ("description", spec.MAX_DESCRIPTION)):
        if problem := text_problem(item.get(attribute), limit):
            error(attribute, f"{attribute} {problem}")
    for attribute in ("link", "image_link"):
        if problem := url_problem(item.get(attribute)):
            error(attribute, f"{attribute} {problem}")
    _check_additional_images(item, item_id, issues)
    _check_availability(item, now, error, issues)
    _check_prices(item, currency, error, drop)

    # condition: new | refurbished | used (answer/7052112)
    if item.get("condition") and item["condition"] not in spec.CONDITIONS:
        error("condition", f"condition {item['condition']!r} is not one of {', '.join(spec.CONDITIONS)}")
    _check_identifiers(item, error)

    # Optional descriptive attributes: a bad value is dropped, the item stays.
    for attribute, limit in (("item_group_id", spec.MAX_ITEM_GROUP_ID), ("product_type", spec.MAX_PRODUCT_TYPE),
                             ("google_product_category", spec.MAX_PRODUCT_TYPE), ("color", spec.MAX_COLOR),
                             ("size", spec.MAX_SIZE)):
        if item.get(attribute) and (problem := text_problem(item[attribute], limit, required=False)):
            drop(attribute, f"{attribute} {problem}")
    if item.get("shipping_weight") and not _WEIGHT.match(item["shipping_weight"]):
        drop("shipping_weight", f"shipping_weight {item['shipping_weight']!r} must be a number and lb, oz, g or kg")
    return issues


def _control(value: str) -> str | None:
    return "contains control characters" if _CONTROL.search(value) else None


def _check_additional_images(item: dict[str, Any], item_id: str, issues: list[Issue]) -> None:
    """Up to 10 http(s) URLs (answer/6324370); bad ones are left out."""
    urls = item.get("additional_image_link")
    if not urls:
        return
    kept = []
    for url in urls:
        if problem := url_problem(url):
            issues.append(Issue(item_id, "additional_image_link", f"additional_image_link {problem}; left out",
                                WARNING))
        else:
            kept.append(url)
    if len(kept) > spec.MAX_ADDITIONAL_IMAGES:
        issues.append(Issue(item_id, "additional_image_link",
                            f"{len(kept)} additional images; only the first {spec.MAX_ADDITIONAL_IMAGES} are sent",
                            WARNING))
        kept = kept[: spec.MAX_ADDITIONAL_IMAGES]
    if kept:
        item["additional_image_link"] = kept
    else:
        item.pop("additional_image_link", None)


def _check_availability(item: dict[str, Any], now: datetime, error, issues: list[Issue]) -> None:
    """availability is required; preorder/backorder need an availability_date ≤ 1 year ahead (answer/6324470)."""
    availability = item.get("availability")
    if availability not in spec.AVAILABILITY:
        error("availability", f"availability {availability!r} is not one of {', '.join(spec.AVAILABILITY)}")
        return
    date_text = item.get("availability_date")
    if availability not in spec.NEEDS_AVAILABILITY_DATE and not date_text:
        return
    if not date_text:
        error("availability_date", f"availability_date is required when availability is {availability}")
        return
    when = parse_datetime(date_text) if len(date_text) <= spec.MAX_AVAILABILITY_DATE else None
    if when is None:
        error("availability_date", f"availability_date {date_text!r} must be an ISO 8601 date-time "
                                   "like 2026-12-25T13:00+0100")
    elif when > one_year_after(now):
        error("availability_date", f"availability_date {date_text} is more than 1 year ahead")
    elif when < now and availability in spec.NEEDS_AVAILABILITY_DATE:
        issues.append(Issue(item.get("id") or "", "availability_date",
                            f"availability_date {date_text} is in the past for a {availability} item", WARNING))


def _check_prices(item: dict[str, Any], currency: str, error, drop) -> None:
    """price required; sale_price lower than price (answer/6324471); effective date (answer/6324460)."""
    if problem := price_problem(item.get("price"), currency):
        error("price", f"price {problem}")
        return
    sale = item.get("sale_price")
    if sale:
        if problem := price_problem(sale, currency):
            error("sale_price", f"sale_price {problem}")
            return
        if price_amount(sale) >= price_amount(item["price"]):
            error("sale_price", f"sale_price {sale} must be lower than price {item['price']}")
            return
    window = item.get("sale_price_effective_date")
    if window:
        if not sale:
            drop("sale_price_effective_date", "sale_price_effective_date is set without a sale_price")
        elif problem := effective_date_problem(window):
            drop("sale_price_effective_date", f"sale_price_effective_date {problem}")


def _check_identifiers(item: dict[str, Any], error) -> None:
    """gtin (answer/6324461), brand ≤ 70, mpn ≤ 70 (answer/6324482), identifier_exists (answer/6324478)."""
    gtin = item.get("gtin")
    if gtin and (problem := gtin_problem(gtin)):
        error("gtin", problem)
    for attribute, limit in (("brand", spec.MAX_BRAND), ("mpn", spec.MAX_MPN)):
        if item.get(attribute) and (problem := text_problem(item[attribute], limit)):
            error(attribute, f"{attribute} {problem}")
    exists = item.get("identifier_exists")
    if exists is not None and exists not in spec.IDENTIFIER_EXISTS:
        error("identifier_exists", f"identifier_exists {exists!r} must be yes or no")
    has_identifiers = bool(gtin) or bool(item.get("mpn") and item.get("brand"))
    if not has_identifiers and exists not in ("no", "false") and item.get("condition", "new") == "new":
        error("identifier_exists", "a new product without a GTIN and without brand + MPN needs identifier_exists no")


# --- the local inventory feed -----------------------------------------------------------------------------

def validate_local_item(item: dict[str, Any], *, currency: str) -> list[Issue]:
    """answer/3061342 and inventories_common.proto (LocalInventoryAttributes)."""
    item_id = item.get("id") or ""
    issues: list[Issue] = []

    def error(attribute: str, message: str) -> None:
        issues.append(Issue(item_id, attribute, message, ERROR))

    if not item.get("store_code"):
        error("store_code", "store_code is required")
    if problem := text_problem(item_id, spec.MAX_ID):
        error("id", f"id {problem}")
    if item.get("availability") not in spec.LOCAL_AVAILABILITY:
        error("availability", f"availability {item.get('availability')!r} is not one of "
                              f"{', '.join(spec.LOCAL_AVAILABILITY)}")
    quantity = item.get("quantity")
    if quantity is not None and not (str(quantity).isdigit()):  # "Must be greater than or equal to zero."
        error("quantity", f"quantity {quantity!r} must be a whole number ≥ 0")
    for attribute in ("price", "sale_price"):
        if item.get(attribute) and (problem := price_problem(item[attribute], currency)):
            error(attribute, f"{attribute} {problem}")
    if item.get("sale_price_effective_date"):
        if not item.get("sale_price"):  # "Mandatory if salePriceEffectiveDate is defined."
            error("sale_price", "sale_price is required when sale_price_effective_date is set")
        elif problem := effective_date_problem(item["sale_price_effective_date"]):
            error("sale_price_effective_date", f"sale_price_effective_date {problem}")
    _check_pickup(item, error)
    location = item.get("instore_product_location")
    if location and len(location.encode("utf-8")) > spec.MAX_INSTORE_PRODUCT_LOCATION_BYTES:
        item.pop("instore_product_location")
        issues.append(Issue(item_id, "instore_product_location",
                            f"instore_product_location is {len(location.encode())} bytes; at most "
                            f"{spec.MAX_INSTORE_PRODUCT_LOCATION_BYTES}; left out of the item", WARNING))
    return issues


def _check_pickup(item: dict[str, Any], error) -> None:
    """pickup_method must come with pickup_sla unless not_supported, and pickup_sla with pickup_method."""
    method, sla = item.get("pickup_method"), item.get("pickup_sla")
    if method and method not in spec.PICKUP_METHODS:
        error("pickup_method", f"pickup_method {method!r} is not one of {', '.join(spec.PICKUP_METHODS)}")
    if sla and sla not in spec.PICKUP_SLAS:
        error("pickup_sla", f"pickup_sla {sla!r} is not one of {', '.join(spec.PICKUP_SLAS)}")
    if method and method != "not_supported" and not sla:
        error("pickup_sla", f"pickup_sla is required with pickup_method {method}")
    if sla and not method:
        error("pickup_method", "pickup_method is required with pickup_sla")
