"""GTIN (EAN/UPC) validation with the GS1 check digit, via python-stdnum."""

from __future__ import annotations

from stdnum import ean
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength, ValidationError

GTIN_LENGTHS = (8, 12, 13, 14)


class GtinError(ValueError):
    pass


def normalise_gtin(value: str) -> str:
    """Return the GTIN's digits, or raise :class:`GtinError` saying what is wrong with it."""
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
    return digits


def is_valid_gtin(value: str) -> bool:
    try:
        normalise_gtin(value)
    except GtinError:
        return False
    return True


def with_check_digit(body: str) -> str:
    """Complete a GTIN body (all digits but the last) with its check digit."""
    return body + ean.calc_check_digit(body)
