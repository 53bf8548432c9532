"""The catalog CSV format and the checks on one row, with no I/O.

One row per variant. Product columns repeat on every row of the product and must agree across its rows.

    product_code*, title*, description, brand, category ("Shoes/Running"), status (active|draft|archived),
    vat_rate (0.23), sku*, gtin, mpn, weight_grams, image_urls ("|"-separated http(s) URLs),
    option_<name> (variant options), attr_<name> (product attributes),
    title_<locale>, description_<locale> (translations; locale in en, pl, tr, sq)

``*`` marks required columns. A column missing from the header is left untouched on existing records;
present columns replace: all ``option_*`` columns together replace a variant's options (blank cells are
left out), all ``attr_*`` columns a product's attributes, ``image_urls`` a product's images, and a locale
whose title and description are both blank is removed.

A blank status means ``active``, a blank vat_rate 0.23. Each row is checked on its own here; ``import_sql``
checks rows against each other and the catalog: a SKU and a GTIN appear once per file, a GTIN may not
belong to another SKU, a SKU may not belong to another product, and a product's rows agree.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first data row is row 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

import orjson

from omniretail.platform.i18n import SUPPORTED_LOCALES

from . import rules
from .gtin import GtinError, normalise_gtin, shortest_form

REQUIRED_COLUMNS = ("product_code", "title", "sku")
PRODUCT_COLUMNS = ("product_code", "title", "description", "brand", "category", "status", "vat_rate")
VARIANT_COLUMNS = ("sku", "gtin", "mpn", "weight_grams")
BASE_COLUMNS = (*PRODUCT_COLUMNS, *VARIANT_COLUMNS, "image_urls")
URL_SEPARATOR = "|"
HEADER_ROW = 1

# The order of the values in a staged (valid) row; ``category`` becomes a category id before staging.
STAGED_FIELDS = ("row_no", "product_code", "title", "description", "brand", "category", "status", "vat_rate",
                 "attributes", "translations", "image_urls", "fingerprint",
                 "sku", "gtin", "mpn", "weight_grams", "options")
_LIMITS = {"product_code": rules.MAX_CODE, "title": rules.MAX_TITLE, "description": rules.MAX_DESCRIPTION,
           "brand": rules.MAX_BRAND, "sku": rules.MAX_SKU, "mpn": rules.MAX_MPN}


@dataclass(frozen=True, slots=True)
class CsvError:
    row: int  # spreadsheet row number: header = 1, first data row = 2
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class CsvHeader:
    columns: list[str]
    index: dict[str, int]  # base column -> position
    options: list[tuple[str, int]]  # (option name, position)
    attributes: list[tuple[str, int]]
    locales: list[tuple[str, int | None, int | None]]  # (locale, title position, description position)

    def has(self, column: str) -> bool:
        return column in self.index


def parse_header(cells: list[str]) -> tuple[CsvHeader | None, list[CsvError]]:
    errors: list[CsvError] = []
    index: dict[str, int] = {}
    options: list[tuple[str, int]] = []
    attributes: list[tuple[str, int]] = []
    locales: dict[str, list[int | None]] = {}
    seen: set[str] = set()
    for pos, raw in enumerate(cells):
        name = raw.strip()
        key = name.lower()
        if not name:
            errors.append(CsvError(HEADER_ROW, f"#{pos + 1}", "empty column name in the header"))
            continue
        if key in seen:
            errors.append(CsvError(HEADER_ROW, name, "column appears twice in the header"))
            continue
        seen.add(key)
        if key in BASE_COLUMNS:
            index[key] = pos
        elif key.startswith(("option_", "attr_")):
            prefix, _, sub = name.partition("_")
            if not sub.strip() or len(sub) > rules.MAX_NAME:
                errors.append(CsvError(HEADER_ROW, name,
                                       f"{prefix}_<name> needs a name of 1–{rules.MAX_NAME} characters"))
            else:
                (options if key.startswith("option_") else attributes).append((sub.strip(), pos))
        elif key.startswith(("title_", "description_")):
            field, _, locale = key.partition("_")
            if locale not in SUPPORTED_LOCALES:
                locales_list = ", ".join(SUPPORTED_LOCALES)
                errors.append(CsvError(HEADER_ROW, name, f"unknown column: translations are for locales "
                                                         f"{locales_list} ({field}_<locale>)"))
            else:
                locales.setdefault(locale, [None, None])[0 if field == "title" else 1] = pos
        else:
            errors.append(CsvError(HEADER_ROW, name, "unknown column; expected " + ", ".join(BASE_COLUMNS)
                                   + ", option_<name>, attr_<name>, title_<locale> or description_<locale>"))
    for required in REQUIRED_COLUMNS:
        if required not in index:
            errors.append(CsvError(HEADER_ROW, required, "required column is missing from the header"))
    if errors:
        return None, errors
    ordered = [(loc, *locales[loc]) for loc in SUPPORTED_LOCALES if loc in locales]
    return CsvHeader([c.strip() for c in cells], index, options, attributes, ordered), []  # type: ignore[misc]


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


class RowParser:
    """Turns one data row into a staged tuple (see ``STAGED_FIELDS``) or the list of what is wrong with it."""

    def __init__(self, header: CsvHeader) -> None:
        self.header = header
        self.width = len(header.columns)
        # a missing column reads the blank cell appended at the end of every row
        self._product_at = [header.index.get(name, self.width) for name in (*PRODUCT_COLUMNS, "image_urls")]
        self._variant_at = [header.index.get(name, self.width) for name in VARIANT_COLUMNS]
        raw_at = [*self._product_at, *(i for _n, i in header.attributes),
                  *(i for _l, t, d in header.locales for i in (t, d) if i is not None)]
        self._product_raw = itemgetter(*raw_at)
        self._has_urls = header.has("image_urls")
        self._cache: dict[tuple[str, str], object] = {}  # category / vat / weight values seen before
        self._last: tuple[tuple, tuple] | None = None  # the previous row's raw and checked product cells
        # errors of a row are reported left to right
        self._order = {name.lower(): i for i, name in enumerate(header.columns)}

    def parse(self, cells: list[str], row_no: int) -> tuple[list | None, list[CsvError]]:
        if len(cells) != self.width:
            return None, [self._width_error(cells, row_no)]
        cells.append("")
        errors: list[CsvError] = []
        raw = self._product_raw(cells)
        if self._last is not None and self._last[0] == raw:  # the next variant of the same product
            product = self._last[1]
        else:
            product = self._product(cells, row_no, errors)
            self._last = (raw, product) if not errors else None
        sku, gtin, mpn, weight = [cells[i].strip() for i in self._variant_at]
        if not sku:
            errors.append(CsvError(row_no, "sku", "required value is missing"))
        for column, value in (("sku", sku), ("mpn", mpn)):
            if len(value) > _LIMITS[column]:
                errors.append(CsvError(row_no, column, f"value is too long ({len(value)} characters, at most "
                                                        f"{_LIMITS[column]})"))
        if sku and len(sku) <= rules.MAX_SKU and not rules.CODE_RE.match(sku):
            errors.append(CsvError(row_no, "sku", f"{sku!r} may contain only {rules.CODE_HINT}"))
        weight_grams = None
        if weight:
            weight_grams = self._cached(errors, row_no, "weight_grams", weight, rules.parse_weight)
        if gtin:
            fast = fast_gtin(gtin)  # kept in its shortest form (gtin.py); all zeros is refused by _gtin
            gtin = shortest_form(fast) if fast and fast.strip("0") else self._checked(errors, row_no, "gtin", gtin,
                                                                                      _gtin)
        options = self._named(errors, row_no, cells, self.header.options, "option_", rules.MAX_OPTION_VALUE)
        if errors:
            errors.sort(key=lambda e: self._order.get(e.column.lower(), self.width))
            return None, errors
        return [row_no, *product, sku, gtin or None, mpn, weight_grams, options], errors

    def _product(self, cells: list[str], row_no: int, errors: list[CsvError]) -> tuple:
        """The checked product columns: (code, title, …, image_urls, fingerprint)."""
        code, title, description, brand, category, status, vat, urls = [
            cells[i].strip() for i in self._product_at]
        for column, value in (("product_code", code), ("title", title)):
            if not value:
                errors.append(CsvError(row_no, column, "required value is missing"))
        for column, value in (("product_code", code), ("title", title), ("description", description),
                              ("brand", brand)):
            if len(value) > _LIMITS[column]:
                errors.append(CsvError(row_no, column, f"value is too long ({len(value)} characters, at most "
                                                        f"{_LIMITS[column]})"))
        if code and len(code) <= rules.MAX_CODE and not rules.CODE_RE.match(code):
            errors.append(CsvError(row_no, "product_code", f"{code!r} may contain only {rules.CODE_HINT}"))
        category = self._cached(errors, row_no, "category", category, rules.normalise_category)
        status = status.lower() or rules.ProductStatus.ACTIVE.value
        if status not in rules.STATUSES:
            allowed = ", ".join(rules.STATUSES)
            errors.append(CsvError(row_no, "status", f"status {status!r} is not one of {allowed}"))
        vat_rate = self._cached(errors, row_no, "vat_rate", vat, rules.parse_vat_rate) if vat \
            else rules.DEFAULT_VAT_RATE
        image_urls = self._urls(errors, row_no, urls) if self._has_urls else None
        attributes = self._named(errors, row_no, cells, self.header.attributes, "attr_",
                                 rules.MAX_ATTRIBUTE_VALUE)
        translations = self._translations(errors, row_no, cells)
        values = (title, description, brand, category, status, vat_rate, attributes, translations, image_urls)
        return (code, *values, hash(values))

    def _width_error(self, cells: list[str], row_no: int) -> CsvError:
        if len(cells) < self.width:
            return CsvError(row_no, self.header.columns[len(cells)],
                            f"the row has {len(cells)} cells but the header has {self.width} columns")
        return CsvError(row_no, "(extra cells)",
                        f"the row has {len(cells)} cells, more than the header's {self.width} columns")

    def _cached(self, errors: list[CsvError], row_no: int, column: str, value: str, check):
        key = (column, value)
        found = self._cache.get(key, _MISSING)
        if found is _MISSING:
            try:
                found = check(value)
            except ValueError as exc:
                errors.append(CsvError(row_no, column, str(exc)))
                return None
            if len(self._cache) > 50_000:  # bounded: a file with ever new values must not grow memory
                self._cache.clear()
            self._cache[key] = found
        return found

    @staticmethod
    def _checked(errors: list[CsvError], row_no: int, column: str, value: str, check):
        try:
            return check(value)
        except ValueError as exc:
            errors.append(CsvError(row_no, column, str(exc)))
            return None

    @staticmethod
    def _urls(errors: list[CsvError], row_no: int, raw: str) -> str:
        urls = []
        for url in split_urls(raw):
            try:
                urls.append(rules.check_media_url(url))
            except ValueError as exc:
                errors.append(CsvError(row_no, "image_urls", str(exc)))
        return _dumps(urls)

    @staticmethod
    def _named(errors: list[CsvError], row_no: int, cells: list[str], columns: list[tuple[str, int]],
               prefix: str, limit: int) -> str | None:
        if not columns:
            return None
        values: dict[str, str] = {}
        for name, i in columns:
            value = cells[i].strip()
            if len(value) > limit:
                errors.append(CsvError(row_no, prefix + name, f"value is too long ({len(value)} characters, "
                                                              f"at most {limit})"))
            elif value:
                values[name] = value
        return _dumps(values)

    def _translations(self, errors: list[CsvError], row_no: int, cells: list[str]) -> str | None:
        if not self.header.locales:
            return None
        out: dict[str, list[str]] = {}
        for locale, t_pos, d_pos in self.header.locales:
            title = cells[t_pos].strip() if t_pos is not None else ""
            description = cells[d_pos].strip() if d_pos is not None else ""
            for column, value, limit in ((f"title_{locale}", title, rules.MAX_TITLE),
                                         (f"description_{locale}", description, rules.MAX_DESCRIPTION)):
                if len(value) > limit:
                    errors.append(CsvError(row_no, column, f"value is too long ({len(value)} characters, "
                                                           f"at most {limit})"))
            out[locale] = [title, description]
        return _dumps(out)


_MISSING = object()

_GTIN_LENGTHS = frozenset((8, 12, 13, 14))


def fast_gtin(value: str) -> str | None:
    """The GTIN if it is plainly valid (digits only, right length, right check digit), else None."""
    if len(value) not in _GTIN_LENGTHS or not value.isascii() or not value.isdigit():
        return None
    body = value[-2::-1]  # reversed, without the check digit: weights 3, 1, 3, 1 ... from the right
    total = 3 * sum(map(int, body[0::2])) + sum(map(int, body[1::2]))
    return value if (10 - total % 10) % 10 == ord(value[-1]) - 48 else None


def _gtin(value: str) -> str:
    try:
        return normalise_gtin(value)
    except GtinError as exc:
        raise ValueError(str(exc)) from exc


def split_urls(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(URL_SEPARATOR) if part.strip()]


def vat_text(rate: Decimal) -> str:
    """0.2300 -> '0.23', 0 -> '0'."""
    return format(Decimal(rate).normalize(), "f")
