"""GTIN (EAN/UPC) validation with the GS1 check digit, via python-stdnum, and the one form a GTIN is kept in.

A GTIN-8, -12 or -13 is the same number as the GTIN-14 it becomes when zero-padded on the left (GS1: "right
justified in a 14-digit field"), so ``5901234123457`` and ``05901234123457`` are one barcode. The catalog keeps
each GTIN in its *shortest* form — the GTIN-14's digits without the leading zeros, padded back to the shortest
GTIN length that holds them (8, 12, 13 or 14) — which is one string per barcode (so the unique constraint on
``variant.gtin`` refuses the same barcode on two SKUs whatever the padding) and the form printed under the bars.
Every lookup by a scanned or typed code turns it into that form first (:func:`canonical_gtin`).
"""

from __future__ import annotations

from stdnum import ean
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

GTIN_LENGTHS = (8, 12, 13, 14)


class GtinError(ValueError):
    pass


def shortest_form(digits: str) -> str:
    """A valid GTIN's digits in the catalog's form: leading zeros dropped, then padded to the shortest GTIN
    length that holds the rest (``05901234123457`` → ``5901234123457``, ``0036000291452`` → ``036000291452``)."""
    core = digits.lstrip("0")
    length = next(n for n in GTIN_LENGTHS if n >= len(core))
    return core.rjust(length, "0")


def gtin14(value: str) -> str:
    """The GTIN-14 (zero-padded) of a valid GTIN: the form GS1 compares and stores."""
    return value.rjust(14, "0")


def normalise_gtin(value: str) -> str:
    """Return the GTIN in the catalog's form (:func:`shortest_form`), or raise :class:`GtinError` saying what is
    wrong with it."""
    digits = ean.compact(value or "")
    if not digits:
        raise GtinError("GTIN is empty")
    try:
        ean.validate(digits)
    except InvalidLength as exc:  # a subclass of InvalidFormat in stdnum: catch it first
        raise GtinError(f"GTIN {value!r} must have 8, 12, 13 or 14 digits (has {len(digits)})") from exc
    except InvalidFormat as exc:
        raise GtinError(f"GTIN {value!r} must contain digits only") from exc
    except InvalidChecksum as exc:
        raise GtinError(
            f"GTIN {value!r} has a wrong check digit (expected {ean.calc_check_digit(digits[:-1])})"
        ) from exc
    except ValidationError as exc:  # pragma: no cover - any other stdnum complaint
        raise GtinError(f"GTIN {value!r} is not valid: {exc}") from exc
    if len(digits) not in GTIN_LENGTHS:
        raise GtinError(f"GTIN {value!r} must have 8, 12, 13 or 14 digits (has {len(digits)})")
    if not digits.strip("0"):
        raise GtinError(f"GTIN {value!r} is all zeros, which is no barcode")
    return shortest_form(digits)


def canonical_gtin(code: str | None) -> str | None:
    """A scanned or typed code in the catalog's GTIN form when it is a valid GTIN, else None (it may be a SKU).
    Unlike :func:`normalise_gtin` it takes digits only (no spaces or dashes): a SKU is never read as a GTIN."""
    code = (code or "").strip()
    if len(code) not in GTIN_LENGTHS or not code.isascii() or not code.isdigit():
        return None
    try:
        return normalise_gtin(code)
    except GtinError:
        return None


def is_valid_gtin(value: str) -> bool:
    try:
        normalise_gtin(value)
    except GtinError:
        return False
    return True


def with_check_digit(body: str) -> str:
    """Complete a GTIN body (all digits but the last) with its check digit."""
    return body + ean.calc_check_digit(body)
