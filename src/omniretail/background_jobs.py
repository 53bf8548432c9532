"""The kinds of background job (``platform/background.py``): each calls its package's own operation.

Every result has the same shape, which the job page shows: ``summary`` (counts), ``errors`` (rows with
``row``, ``column``, ``message``; at most ``MAX_ERRORS``) and ``errors_truncated``.

* ``catalog_import`` — a catalog CSV (``catalog/csv_import``) in one transaction: all or nothing, unless
  ``skip_bad_rows``; progress is the rows read.
* ``stock_import`` — a stock CSV (``inventory/csv_import``), the same way.
* ``feed_build`` — a channel's Google feeds (``channels/feeds``); the items left out are the errors.
* ``reconcile`` — a channel's listings read back and compared (``channels/sync/reconcile``); drift rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any, TextIO

from omniretail.platform.background import JobRun, runner
from omniretail.platform.db import unit_of_work

CATALOG_IMPORT, STOCK_IMPORT, FEED_BUILD, RECONCILE = "catalog_import", "stock_import", "feed_build", "reconcile"
MAX_ERRORS = 1000


class _Rollback(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("rolled back")
        self.result = result


class CountingLines:
    """A text stream that tells ``on_line(n)`` how many lines were read: progress of a streamed CSV."""

    def __init__(self, stream: TextIO, on_line: Callable[[int], None], *, every: int = 200) -> None:
        self.stream, self.on_line, self.every, self.lines = stream, on_line, every, 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self.stream)
        self.lines += 1
        if not self.lines % self.every:
            self.on_line(self.lines)
        return line


def count_data_rows(run: JobRun) -> int:
    """Lines after the header (an upper bound of the rows: quoted cells may hold line breaks)."""
    lines, last = 0, b"\n"
    with run.input_path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return max(0, lines + (0 if last == b"\n" else 1) - 1)


def _result(summary: dict[str, Any], errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"summary": summary, "errors": errors[:MAX_ERRORS], "errors_truncated": len(errors) > MAX_ERRORS}


async def _import_csv(run: JobRun, do_import) -> None:
    total = count_data_rows(run)
    run.progress(0, total)
    with run.input_path.open(encoding="utf-8-sig", newline="") as fh:
        stream = CountingLines(fh, lambda n: run.progress(min(total, max(0, n - 1)), total))
        try:
            async with unit_of_work(run.db) as session:
                report = await do_import(session, stream)
                result = _result(report.summary(), [e.as_dict() for e in report.errors])
                if report.aborted:  # nothing may be written: roll the work back, then say so
                    raise _Rollback(result)
                run.progress(total, total)
                await run.complete(session, result=result)
        except _Rollback as rolled_back:
            async with unit_of_work(run.db) as session:
                await run.complete(session, result=rolled_back.result, ok=False,
                                   error="errors in the file; nothing was imported")


@runner(CATALOG_IMPORT)
async def catalog_import(run: JobRun) -> None:
    from omniretail.catalog.csv_import import import_catalog_stream

    skip = bool(run.params.get("skip_bad_rows"))
    await _import_csv(run, lambda session, stream: import_catalog_stream(session, stream, skip_bad_rows=skip))


@runner(STOCK_IMPORT)
async def stock_import(run: JobRun) -> None:
    from omniretail.inventory.csv_import import import_stock_csv

    scope = run.params.get("scope")
    await _import_csv(run, lambda session, stream: import_stock_csv(
        session, stream, actor=str(run.params.get("actor") or "background job"),
        skip_bad_rows=bool(run.params.get("skip_bad_rows")),
        scope=None if scope is None else frozenset(int(x) for x in scope),
        reference=str(run.params.get("filename") or f"job {run.job_id}")))


@runner(FEED_BUILD)
async def feed_build(run: JobRun) -> None:
    from omniretail.channels.feeds.service import build_channel_feeds

    run.progress(0, 1)
    async with unit_of_work(run.db, readonly=True) as session:
        report = await build_channel_feeds(session, int(run.params["channel_id"]), var_dir=run.settings.var_dir)
    errors = [{"row": i.get("id"), "column": i.get("attribute"), "message": i.get("message"),
               "severity": i.get("severity")} for i in report.get("issues", [])]
    summary = {"items": sum(f.get("items", 0) for f in report.get("feeds", {}).values()),
               "left_out": sum(f.get("left_out", 0) for f in report.get("feeds", {}).values()),
               "errors": report.get("errors_total", 0), "issues": report.get("issues_total", 0),
               "seconds": report.get("seconds")}
    run.progress(1, 1)
    async with unit_of_work(run.db) as session:
        await run.complete(session, result=_result(summary, errors))


@runner(RECONCILE)
async def reconcile(run: JobRun) -> None:
    from omniretail.channels.sync import reconcile as reconciliation
    from omniretail.channels.sync.tasks import connections_of

    channel_id = int(run.params["channel_id"])
    run.progress(0, 1)
    handle = await connections_of(run.context).get(channel_id)
    if handle is None:
        raise RuntimeError(f"channel {channel_id} has no active connection")
    report = await reconciliation.reconcile_channel(run.db, handle, full=True, worker=run.context.worker_id)
    body = asdict(report)
    errors = [{"row": d.get("sku") or d.get("variant_id") or d.get("key"), "column": ", ".join(d.get("diff", {})),
               "message": str(d.get("diff") or d)} for d in body.pop("drift", [])]
    run.progress(1, 1)
    async with unit_of_work(run.db) as session:
        await run.complete(session, result=_result(
            {k: v for k, v in body.items() if k in ("checked", "drifted", "corrected", "missing")}, errors))
