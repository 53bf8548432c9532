"""Import products and variants from CSV (the format is described in ``csv_format``).

The file is streamed: rows are checked in Python a batch at a time and the valid ones are staged in a
temporary table; the checks across rows and the merge run in the database (``import_sql``). Everything
happens in one transaction: a file with any error changes nothing, unless ``skip_bad_rows`` is set, in which
case every row without an error is imported and the bad rows are reported.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.db import Database, unit_of_work

from .csv_format import HEADER_ROW, CsvError, RowParser, parse_header
from .import_sql import Staging
from .repository import CatalogRepository

__all__ = ["ImportReport", "CsvError", "import_catalog_csv", "import_catalog_stream", "BATCH_ROWS"]

BATCH_ROWS = 5000
_CATEGORY = 5  # position of the category in a staged row (csv_format.STAGED_FIELDS)


@dataclass
class ImportReport:
    """What an import did. ``errors`` hold ``row`` (spreadsheet numbering: header = row 1, first data row = 2),
    ``column`` and ``message``."""

    skip_bad_rows: bool = False
    rows: int = 0
    imported: int = 0
    products: int = 0
    errors: list[CsvError] = field(default_factory=list)
    seconds: float = 0.0
    unreadable: bool = False  # the header or the file itself could not be read: nothing is imported

    @property
    def aborted(self) -> bool:
        """True when nothing was (or may be) written."""
        return bool(self.errors) and (not self.skip_bad_rows or self.unreadable)

    @property
    def bad_rows(self) -> int:
        return len({e.row for e in self.errors})

    def summary(self) -> dict[str, object]:
        return {"rows": self.rows, "imported": self.imported, "products": self.products,
                "errors": len(self.errors), "bad_rows": self.bad_rows, "seconds": round(self.seconds, 3)}

    def write_errors_csv(self, path: str | Path) -> None:
        with Path(path).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["row", "column", "message"])
            writer.writerows((e.row, e.column, e.message) for e in self.errors)


class _RollBack(Exception):
    def __init__(self, report: ImportReport) -> None:
        super().__init__("catalog import rolled back")
        self.report = report


async def import_catalog_csv(db: Database, text_stream: TextIO, *, skip_bad_rows: bool) -> ImportReport:
    """Import a CSV text stream in one unit of work (the CLI's entry point)."""
    started = time.perf_counter()
    try:
        async with unit_of_work(db) as session:
            report = await import_catalog_stream(session, text_stream, skip_bad_rows=skip_bad_rows)
            if report.aborted:
                raise _RollBack(report)
    except _RollBack as rolled_back:
        report = rolled_back.report
    report.seconds = time.perf_counter() - started
    return report


async def import_catalog_stream(session: AsyncSession, text_stream: TextIO, *, skip_bad_rows: bool) -> ImportReport:
    """Import into the session's transaction. Never commits; when ``report.aborted`` the caller must roll
    back (writing stops at the first error then, but the whole file is still checked and reported)."""
    started = time.perf_counter()
    report = ImportReport(skip_bad_rows=skip_bad_rows)
    reader = csv.reader(text_stream)
    try:
        header_cells = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        return _unreadable(report, HEADER_ROW, exc, started)
    if not header_cells:
        report.errors.append(CsvError(HEADER_ROW, "product_code", "the file is empty; the first row must be the "
                                                                  "header (product_code, title, sku, …)"))
        report.unreadable = True
        return report
    header, header_errors = parse_header(header_cells)
    if header is None:
        report.errors.extend(header_errors)
        report.unreadable = True
        return report
    staging = Staging.for_session(session)
    await staging.create()
    stager = _Stager(session, staging)
    parser = RowParser(header)
    row_no = HEADER_ROW
    try:
        for cells in reader:
            row_no += 1
            if not cells:
                continue  # a blank line
            report.rows += 1
            staged, errors = parser.parse(cells, row_no)
            if errors:
                report.errors.extend(errors)
            else:
                await stager.add(staged)
        await stager.flush()
    except (UnicodeDecodeError, csv.Error) as exc:
        return _unreadable(report, row_no + 1, exc, started)
    await staging.analyse()
    cross = await staging.cross_row_errors()
    report.errors.extend(cross)
    report.errors.sort(key=lambda e: e.row)
    if cross and skip_bad_rows:
        await staging.discard_rows(sorted({e.row for e in cross}))
    if not report.aborted:
        await staging.merge(header)
        report.imported, report.products = await staging.count()
    await staging.drop()
    report.seconds = time.perf_counter() - started
    return report


def _unreadable(report: ImportReport, row: int, exc: Exception, started: float) -> ImportReport:
    if isinstance(exc, UnicodeDecodeError):
        message = "the file is not UTF-8 text (save it as CSV UTF-8)"
    else:
        message = f"the file is not valid CSV: {exc}"
    report.errors.append(CsvError(row, "(file)", message))
    report.unreadable = True
    report.seconds = time.perf_counter() - started
    return report


class _Stager:
    """Collects valid rows, resolves their categories and sends them to the staging table in batches."""

    def __init__(self, session: AsyncSession, staging: Staging) -> None:
        self.repo = CatalogRepository(session)
        self.staging = staging
        self.batch: list[list] = []
        self.categories: dict[str | None, int | None] = {None: None}

    async def add(self, row: list) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH_ROWS:
            await self.flush()

    async def flush(self) -> None:
        if not self.batch:
            return
        for row in self.batch:
            path = row[_CATEGORY]
            if path not in self.categories:
                self.categories[path] = await self.repo.ensure_category(path)
            row[_CATEGORY] = self.categories[path]
        await self.staging.add_rows(self.batch)
        self.batch = []
