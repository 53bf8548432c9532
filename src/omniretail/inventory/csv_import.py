"""Import stock from CSV: absolute counts, deltas and level settings per (location, SKU).

Columns (header row required, names case-insensitive, order free)::

    location_code*, sku*, on_hand, delta, reason, safety_stock, low_stock_threshold

* ``on_hand``: the counted figure; on-hand becomes it, the difference is a ``count`` movement.
* ``delta``: a signed change; positive is a ``receipt``, negative an ``adjustment`` and needs a ``reason``.
* ``safety_stock`` (≥ 0) and ``low_stock_threshold`` (≥ 0, or ``default`` to follow the location's default)
  change the level's settings. A blank cell leaves that value alone.

A row gives ``on_hand`` or ``delta`` (not both) and/or a setting; a (location, SKU) appears once per file.
Errors are reported per row and column (the header is row 1, the first data row row 2). Lookups are batched
(every location code and SKU in one query per thousand), stock moves through ``ledger`` (one conditional
update per level, one multi-row insert for the movements), and everything runs in the caller's transaction:
a file with any error changes nothing — :attr:`StockImportReport.aborted` tells the caller to roll back —
unless ``skip_bad_rows`` is set, in which case every good row is applied and the bad ones are reported.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock
from omniretail.platform.csv_files import spreadsheet_rows

from . import events, ledger
from . import repository as repo
from .ledger import Move, MovementReference, Refusal
from .schemas import MAX_UNITS

COLUMNS = ("location_code", "sku", "on_hand", "delta", "reason", "safety_stock", "low_stock_threshold")
REQUIRED = ("location_code", "sku")
CHANGES = ("on_hand", "delta", "safety_stock", "low_stock_threshold")
HEADER_ROW = 1
MAX_REASON = 500
FOLLOW_DEFAULT = "default"
_KEEP = object()  # a blank setting cell: leave the value alone

_SET_SETTINGS = repo.typed(repo.level_update(
    safety_stock="CASE WHEN :set_safety THEN :safety_stock ELSE safety_stock END",
    threshold="CASE WHEN :set_threshold THEN :threshold ELSE low_stock_threshold END"), "now")
_LOCATIONS = text("SELECT code, id FROM location WHERE code IN :codes").bindparams(
    bindparam("codes", expanding=True))


@dataclass(frozen=True, slots=True)
class CsvError:
    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class StockImportReport:
    skip_bad_rows: bool = False
    rows: int = 0
    applied: int = 0
    movements: int = 0
    settings: int = 0
    errors: list[CsvError] = field(default_factory=list)
    seconds: float = 0.0
    unreadable: bool = False  # the header or the file could not be read: nothing is imported

    @property
    def aborted(self) -> bool:
        """True when nothing may be written: the caller must roll back."""
        return bool(self.errors) and (not self.skip_bad_rows or self.unreadable)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self) -> dict[str, object]:
        return {"rows": self.rows, "applied": 0 if self.aborted else self.applied,
                "movements": 0 if self.aborted else self.movements,
                "settings": 0 if self.aborted else self.settings, "errors": len(self.errors),
                "bad_rows": self.bad_rows, "seconds": round(self.seconds, 3)}

    def write_errors_csv(self, path: str | Path) -> None:
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row", "column", "message"])
            writer.writerows((e.row, e.column, e.message) for e in self.errors)


@dataclass(slots=True)
class _Row:
    row_no: int
    location_code: str
    sku: str
    on_hand: int | None = None
    delta: int | None = None
    reason: str = ""
    safety_stock: object = _KEEP
    threshold: object = _KEEP
    location_id: int = 0
    variant_id: int = 0


async def import_stock_csv(session: AsyncSession, text_stream: TextIO, *, actor: str, skip_bad_rows: bool = False,
                           scope: frozenset[int] | None = None, reference: str | None = None) -> StockImportReport:
    """Check the whole file, then apply it in the session's transaction (never commits). A location outside
    ``scope`` is reported as unknown."""
    started = time.perf_counter()
    report = StockImportReport(skip_bad_rows=skip_bad_rows)
    rows = _parse(text_stream, report)
    if rows is None:
        report.unreadable = True
    else:
        good = await _resolve(session, rows, report, scope)
        if good and not (report.errors and not skip_bad_rows):
            await _apply(session, good, report, actor=actor,
                         reference=MovementReference("stock_import", (reference or clock.now().isoformat())[:100]))
    report.seconds = time.perf_counter() - started
    return report


def _parse(text_stream: TextIO, report: StockImportReport) -> list[_Row] | None:
    reader = spreadsheet_rows(text_stream)  # comma, semicolon (Polish Excel) or tab
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            report.errors.append(CsvError(HEADER_ROW, "location_code",
                                          "the file is empty; its first row must be the header"))
            return None
        index = _header(header, report)
        if index is None:
            return None
        rows, errors = [], report.errors
        for row_no, cells in enumerate(reader, start=HEADER_ROW + 1):
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            report.rows += 1
            parsed = _row(row_no, cells, index, errors)
            if parsed is not None:
                rows.append(parsed)
        return rows
    except (UnicodeDecodeError, csv.Error) as exc:
        report.errors.append(CsvError(HEADER_ROW + report.rows, "", f"the file cannot be read: {exc}"))
        return None


def _header(cells: list[str], report: StockImportReport) -> dict[str, int] | None:
    index: dict[str, int] = {}
    for pos, raw in enumerate(cells):
        name = raw.strip().lower()
        if name not in COLUMNS:
            report.errors.append(CsvError(HEADER_ROW, raw.strip(), f"unknown column; use {', '.join(COLUMNS)}"))
        elif name in index:
            report.errors.append(CsvError(HEADER_ROW, name, "the column appears twice"))
        else:
            index[name] = pos
    for name in REQUIRED:
        if name not in index:
            report.errors.append(CsvError(HEADER_ROW, name, "required column missing"))
    if not any(name in index for name in CHANGES):
        report.errors.append(CsvError(HEADER_ROW, "on_hand",
                                      f"nothing to import: add one of {', '.join(CHANGES)}"))
    return None if report.errors else index


def _row(row_no: int, cells: list[str], index: dict[str, int], errors: list[CsvError]) -> _Row | None:
    extra = [c for c in cells[len(index):] if c.strip()] if len(cells) > len(index) else []
    if extra:  # a shifted row (a stray separator) would otherwise import the wrong figures
        errors.append(CsvError(row_no, "", f"{len(cells)} cells but the header has {len(index)} columns: "
                                           f"{', '.join(repr(c) for c in extra[:3])} has no column"))
        return None
    def cell(name: str) -> str:
        pos = index.get(name)
        return cells[pos].strip() if pos is not None and pos < len(cells) else ""

    before = len(errors)

    def whole(name: str, *, minimum: int | None = 0) -> int | None:
        value = cell(name)
        if not value:
            return None
        try:
            number = int(value)
        except ValueError:
            errors.append(CsvError(row_no, name, f"{value!r} is not a whole number"))
            return None
        if minimum is not None and number < minimum:
            errors.append(CsvError(row_no, name, f"must be {minimum} or more, not {number}"))
            return None
        if abs(number) > MAX_UNITS:
            errors.append(CsvError(row_no, name, f"at most {MAX_UNITS:,} units, not {number}"))
            return None
        return number

    row = _Row(row_no, cell("location_code"), cell("sku"), whole("on_hand"), whole("delta", minimum=None),
               cell("reason"))
    for name in REQUIRED:
        if not cell(name):
            errors.append(CsvError(row_no, name, "required"))
    if cell("on_hand") and cell("delta"):
        errors.append(CsvError(row_no, "delta", "give on_hand or delta, not both"))
    if row.delta == 0:
        errors.append(CsvError(row_no, "delta", "a delta of 0 changes nothing; leave the cell blank"))
    if row.delta is not None and row.delta < 0 and not row.reason:
        errors.append(CsvError(row_no, "reason", "a negative delta needs a reason"))
    if len(row.reason) > MAX_REASON:
        errors.append(CsvError(row_no, "reason", f"at most {MAX_REASON} characters"))
    if cell("safety_stock"):
        safety = whole("safety_stock")
        row.safety_stock = safety if safety is not None else _KEEP
    threshold = cell("low_stock_threshold")
    if threshold.lower() == FOLLOW_DEFAULT:
        row.threshold = None
    elif threshold:
        value = whole("low_stock_threshold")
        row.threshold = value if value is not None else _KEEP
    if len(errors) == before and not any(cell(name) for name in CHANGES):
        errors.append(CsvError(row_no, "on_hand", f"nothing to change: fill one of {', '.join(CHANGES)}"))
    return row if len(errors) == before else None


async def _resolve(session: AsyncSession, rows: list[_Row], report: StockImportReport,
                   scope: frozenset[int] | None) -> list[_Row]:
    """Location codes and SKUs to ids (batched); unknown ones and repeated (location, SKU) pairs are errors."""
    codes = sorted({r.location_code for r in rows})
    locations: dict[str, int] = {}
    for i in range(0, len(codes), 1000):
        found = await session.execute(_LOCATIONS, {"codes": codes[i:i + 1000]})
        locations.update({r.code: r.id for r in found if scope is None or r.id in scope})
    variants = await repo.variant_ids(session, [r.sku for r in rows])
    good, first_row = [], {}
    for r in rows:
        ok = True
        if r.location_code not in locations:
            report.errors.append(CsvError(r.row_no, "location_code", f"unknown location {r.location_code!r}"))
            ok = False
        if r.sku not in variants:
            report.errors.append(CsvError(r.row_no, "sku", f"unknown SKU {r.sku!r}"))
            ok = False
        if not ok:
            continue
        key = (r.location_code, r.sku)
        if key in first_row:
            report.errors.append(CsvError(r.row_no, "sku", f"{r.sku} at {r.location_code} already appears on row "
                                                           f"{first_row[key]}; give one row per location and SKU"))
            continue
        first_row[key] = r.row_no
        r.location_id, r.variant_id = locations[r.location_code], variants[r.sku]
        good.append(r)
    return good


async def _apply(session: AsyncSession, rows: list[_Row], report: StockImportReport, *, actor: str,
                 reference: MovementReference) -> None:
    """Stock first (a refused decrease changes nothing and marks its row bad), then the settings of the rows
    that were not refused; the levels are locked up front in (variant_id, location_id) order."""
    await repo.lock_levels(session, [(r.variant_id, r.location_id) for r in rows])
    moves, row_of = [], {}
    for r in rows:
        if r.on_hand is not None:
            moves.append(Move(r.sku, r.variant_id, r.location_id, "count", r.on_hand, r.reason or "stock import",
                              reference, counted=True))
        elif r.delta is not None:
            moves.append(Move(r.sku, r.variant_id, r.location_id, "receipt" if r.delta > 0 else "adjustment",
                              r.delta, r.reason, reference))
        else:
            continue
        row_of[(r.variant_id, r.location_id)] = r.row_no
    refused: list[Refusal] = []
    report.movements = len(await ledger.apply_moves(session, moves, actor=actor, refused=refused))
    refused_rows = set()
    for refusal in refused:
        row_no = row_of[(refusal.move.variant_id, refusal.move.location_id)]
        refused_rows.add(row_no)
        report.errors.append(CsvError(row_no, "on_hand" if refusal.move.counted else "delta", refusal.error.detail))
    report.errors.sort(key=lambda e: e.row)
    now = clock.now()
    settled, out_events = set(), []
    for r in sorted(rows, key=lambda r: (r.variant_id, r.location_id)):
        if (r.safety_stock is _KEEP and r.threshold is _KEEP) or r.row_no in refused_rows:
            continue
        key = {"variant_id": r.variant_id, "location_id": r.location_id}
        await repo.ensure_level(session, **key, now=now)
        level = await repo.update_level(session, _SET_SETTINGS, {
            **key, "now": now, "set_safety": r.safety_stock is not _KEEP,
            "safety_stock": 0 if r.safety_stock is _KEEP else r.safety_stock,
            "set_threshold": r.threshold is not _KEEP, "threshold": None if r.threshold is _KEEP else r.threshold})
        out_events += events.for_level(level, "safety_stock", availability_changed=r.safety_stock is not _KEEP)
        settled.add(r.row_no)
    await events.append(session, out_events)
    report.settings = len(settled)
    report.applied = len((set(row_of.values()) | settled) - refused_rows)
