"""Import products and variants from CSV (the format is described in ``csv_format``).

The file is streamed: rows are checked in Python a batch at a time and the valid ones are staged in a
temporary table; the checks across rows and the merge run in the database (``import_sql``). Everything
happens in one transaction: a file with any error changes nothing, unless ``skip_bad_rows`` is set, in which
case every row without an error is imported and the bad rows are reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform.csv_files import spreadsheet_rows
from omniretail.platform.db import Database, unit_of_work

from .csv_format import HEADER_ROW, CsvError, CsvHeader, RowParser, parse_header
from .import_sql import Staging
from .repository import CatalogRepository

__all__ = ["BATCH_ROWS", "CsvError", "ImportReport", "import_catalog_csv", "import_catalog_stream"]

BATCH_ROWS = 10000
_CATEGORY = 5  # position of the category in a staged row (csv_format.STAGED_FIELDS)


@dataclass
class ImportReport:
    """What an import did. ``errors`` hold ``row`` (spreadsheet numbering: the header is row 1, the first
    data row is row 2), ``column`` and ``message``."""

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


async def import_catalog_stream(session: AsyncSession, text_stream: TextIO, *,
                                skip_bad_rows: bool) -> ImportReport:
    """Import into the session's transaction. Never commits; when ``report.aborted`` the caller must roll
    back (merging stops at the first error then, but the whole file is still checked and reported)."""
    started = time.perf_counter()
    report = ImportReport(skip_bad_rows=skip_bad_rows)
    reader = spreadsheet_rows(text_stream)  # comma, semicolon (Polish Excel) or tab
    try:
        header_cells = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        return _unreadable(report, HEADER_ROW, exc, started)
    if not header_cells:
        report.errors.append(CsvError(HEADER_ROW, "product_code",
                                      "the file is empty; its first row must be the header"))
        report.unreadable = True
        return report
    header, header_errors = parse_header(header_cells)
    if header is None:
        report.errors.extend(header_errors)
        report.unreadable = True
        return report
    staging = Staging.for_session(session)
    await staging.create()
    pipeline = _Pipeline(session, staging, header, report)
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
                await pipeline.add(staged)
            if not row_no % 256:
                await asyncio.sleep(0)  # let the batch in the database move on
        await pipeline.finish()
    except (UnicodeDecodeError, csv.Error) as exc:
        await pipeline.drain()  # let the batch in flight end cleanly; the caller rolls everything back
        return _unreadable(report, row_no + 1, exc, started)
    except BaseException:
        await pipeline.cancel()
        raise
    report.errors.sort(key=lambda e: e.row)
    if not report.aborted:
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


class _Pipeline:
    """Sends valid rows to the database a batch at a time. A batch is staged, checked against the earlier
    rows and the catalog, and merged, in a task that runs while the next batch is being parsed (the database
    and Python each get a core). Merging stops at the first error unless bad rows are skipped."""

    def __init__(self, session: AsyncSession, staging: Staging, header: CsvHeader,
                 report: ImportReport) -> None:
        self.repo = CatalogRepository(session)
        self.staging = staging
        self.header = header
        self.report = report
        self.batch: list[list] = []
        self.running: asyncio.Task | None = None
        self.categories: dict[str | None, int | None] = {None: None}

    async def add(self, row: list) -> None:
        self.batch.append(row)
        if len(self.batch) >= BATCH_ROWS:
            await self._send()

    async def finish(self) -> None:
        await self._send()
        await self.drain()

    async def cancel(self) -> None:
        if self.running is not None:
            self.running.cancel()
            with contextlib.suppress(BaseException):
                await self.running
            self.running = None

    async def drain(self) -> None:
        """Wait for the batch in flight (its errors are raised here)."""
        if self.running is not None:
            running, self.running = self.running, None
            await running

    async def _send(self) -> None:
        await self.drain()
        if self.batch:
            self.running = asyncio.ensure_future(self._process(self.batch))
            self.batch = []

    async def _process(self, rows: list[list]) -> None:
        for row in rows:
            path = row[_CATEGORY]
            if path not in self.categories:
                self.categories[path] = await self.repo.ensure_category(path)
            row[_CATEGORY] = self.categories[path]
        lo, hi = rows[0][0], rows[-1][0]
        await self.staging.add_rows(rows)
        errors = await self.staging.check_batch(lo, hi)
        self.report.errors.extend(errors)
        if errors and self.report.skip_bad_rows:
            await self.staging.discard_rows([e.row for e in errors])
        if not self.report.aborted:
            await self.staging.merge_batch(self.header, lo, hi)
