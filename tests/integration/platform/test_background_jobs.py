"""Background jobs: queued with an outbox event, claimed once by the worker, run after the claim commits with
progress people can read, ended with a result (per-row errors) in the same transaction as the work; failures
and dead workers end as ``failed``; ``GET /api/v1/jobs/{id}``."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from omniretail import background_jobs as kinds
from omniretail.catalog.models import Variant
from omniretail.platform import background, clock
from omniretail.platform.db import unit_of_work
from omniretail.platform.dispatcher import OutboxDispatcher
from omniretail.platform.jobs import Registry, WorkerContext
from omniretail.platform.outbox import OutboxEvent
from tests.factories import bearer, catalog_csv, catalog_row, create_location, create_user_with_token, unique


@pytest.fixture(autouse=True)
def _forget_test_kinds():
    """Kinds a test registers are dropped after it (the test runs once per backend in one process)."""
    yield
    for kind in [k for k in background._RUNNERS if k.startswith("test_")]:
        del background._RUNNERS[kind]


def _dispatcher(db, settings) -> OutboxDispatcher:
    registry = Registry()
    registry.handles(background.TOPIC)(background.run_job_event)
    return OutboxDispatcher(WorkerContext(db=db, settings=settings, worker_id="test-worker"), registry)


async def _queue(db, settings, kind, params, *, text: str | None = None, user_id: int | None = None) -> int:
    async with unit_of_work(db) as session:
        job_id = await background.enqueue(session, kind=kind, params=params, created_by="tests",
                                          created_by_user_id=user_id)
        if text is not None:
            path = background.input_path(settings.var_dir, job_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return job_id


async def _job(db, job_id) -> background.JobView:
    async with unit_of_work(db, readonly=True) as session:
        return await background.get_job(session, job_id)


async def test_a_catalog_import_runs_in_the_worker_and_reports_its_result(db, settings):
    prefix = unique("BG")
    rows = [catalog_row(i, product=f"{prefix}-{i // 2}", sku=f"{prefix}-SKU-{i}") for i in range(6)]
    job_id = await _queue(db, settings, kinds.CATALOG_IMPORT, {"skip_bad_rows": False}, text=catalog_csv(rows))
    assert (await _job(db, job_id)).state == background.QUEUED
    assert await _dispatcher(db, settings).run_once() >= 1
    job = await _job(db, job_id)
    assert job.state == background.SUCCEEDED and job.finished and job.percent == 100
    assert (job.done, job.total) == (6, 6)
    assert job.result["summary"]["imported"] == 6 and job.result["errors"] == []
    async with unit_of_work(db, readonly=True) as session:
        assert await session.scalar(select(func.count()).select_from(Variant)
                                    .where(Variant.sku.startswith(prefix))) == 6
    assert not background.input_path(settings.var_dir, job_id).exists()  # the upload is removed


async def test_a_file_with_errors_imports_nothing_and_lists_the_rows(db, settings):
    prefix = unique("BGX")
    rows = [catalog_row(0, product=f"{prefix}-0", sku=f"{prefix}-SKU-0"),
            catalog_row(1, product=f"{prefix}-0", sku=f"{prefix}-SKU-1", gtin="123"),
            catalog_row(2, product=f"{prefix}-1", sku=f"{prefix}-SKU-2", status="sold")]
    job_id = await _queue(db, settings, kinds.CATALOG_IMPORT, {}, text=catalog_csv(rows))
    await _dispatcher(db, settings).run_once()
    job = await _job(db, job_id)
    assert job.state == background.FAILED and "nothing was imported" in job.error
    assert {(e["row"], e["column"]) for e in job.result["errors"]} >= {(3, "gtin"), (4, "status")}
    async with unit_of_work(db, readonly=True) as session:
        assert await session.scalar(select(func.count()).select_from(Variant)
                                    .where(Variant.sku.startswith(prefix))) == 0


async def test_skip_bad_rows_imports_the_good_ones_and_succeeds_with_errors(db, settings):
    prefix = unique("BGS")
    rows = [catalog_row(0, product=f"{prefix}-0", sku=f"{prefix}-SKU-0"),
            catalog_row(1, product=f"{prefix}-1", sku=f"{prefix}-SKU-1", gtin="123")]
    job_id = await _queue(db, settings, kinds.CATALOG_IMPORT, {"skip_bad_rows": True}, text=catalog_csv(rows))
    await _dispatcher(db, settings).run_once()
    job = await _job(db, job_id)
    assert job.state == background.SUCCEEDED
    assert job.result["summary"]["imported"] == 1 and [e["row"] for e in job.result["errors"]] == [3]


async def test_a_redelivered_event_does_not_run_the_job_twice(db, settings):
    runs = []

    @background.runner("test_counting")
    async def counting(run: background.JobRun) -> None:
        runs.append(run.job_id)
        async with unit_of_work(run.db) as session:
            await run.complete(session, result={"summary": {}, "errors": []})

    job_id = await _queue(db, settings, "test_counting", {})
    await _dispatcher(db, settings).run_once()
    async with unit_of_work(db) as session:  # an operator replays the event
        await session.execute(update(OutboxEvent).where(OutboxEvent.topic == background.TOPIC)
                              .values(published_at=None))
    await _dispatcher(db, settings).run_once()
    assert runs == [job_id]
    assert (await _job(db, job_id)).state == background.SUCCEEDED


async def test_progress_is_readable_while_the_job_runs(db, settings):
    seen = []
    gate = asyncio.Event()

    @background.runner("test_progress")
    async def stepping(run: background.JobRun) -> None:
        run.progress(0, 4)
        for i in range(1, 5):
            run.progress(i)
            if i == 2:
                async with unit_of_work(run.db, readonly=True) as session:
                    seen.append(await background.get_job(session, run.job_id))
        gate.set()
        async with unit_of_work(run.db) as session:
            await run.complete(session, result={"summary": {"steps": 4}, "errors": []})

    job_id = await _queue(db, settings, "test_progress", {})
    await _dispatcher(db, settings).run_once()
    assert gate.is_set()
    [midway] = seen
    assert (midway.state, midway.done, midway.total, midway.percent) == ("running", 2, 4, 50)
    done = await _job(db, job_id)
    assert (done.state, done.done, done.total) == ("succeeded", 4, 4)


async def test_a_runner_that_raises_fails_the_job_with_the_error(db, settings):
    @background.runner("test_broken")
    async def broken(run: background.JobRun) -> None:
        run.progress(1, 10)
        raise ValueError("the channel said no")

    job_id = await _queue(db, settings, "test_broken", {})
    await _dispatcher(db, settings).run_once()
    job = await _job(db, job_id)
    assert job.state == background.FAILED and job.error == "ValueError: the channel said no"
    assert job.done == 1 and job.finished_at is not None


async def test_a_job_whose_worker_died_is_failed_after_a_while(db, settings):
    job_id = await _queue(db, settings, kinds.CATALOG_IMPORT, {})
    async with unit_of_work(db) as session:
        assert await background.claim(session, job_id)
        assert not await background.claim(session, job_id)  # once
    async with unit_of_work(db) as session:
        assert job_id not in await background.fail_stale(session)  # still fresh
        failed = await background.fail_stale(session, now=clock.now() + background.STALE_AFTER
                                             + timedelta(seconds=1))
    assert job_id in failed
    job = await _job(db, job_id)
    assert job.state == background.FAILED and "start it again" in job.error


async def test_unknown_kinds_are_refused(db):
    from omniretail.platform.errors import InvalidInput

    async with unit_of_work(db) as session:
        with pytest.raises(InvalidInput):
            await background.enqueue(session, kind="no_such_kind", params={}, created_by="tests")


async def test_the_api_shows_a_job_to_its_owner_and_to_managers(client, session, db, settings):
    store = await create_location(session)
    owner_id, owner_token = await create_user_with_token(session, role="associate", location_ids=[store])
    job_id = await _queue(db, settings, kinds.CATALOG_IMPORT, {}, user_id=owner_id)
    mine = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(owner_token))
    assert mine.status_code == 200, mine.text
    body = mine.json()
    assert (body["id"], body["kind"], body["state"], body["finished"]) == (job_id, "catalog_import", "queued",
                                                                           False)
    _mid, manager = await create_user_with_token(session, role="manager")
    assert (await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(manager))).status_code == 200
    other_store = await create_location(session)
    _oid, other = await create_user_with_token(session, role="associate", location_ids=[other_store])
    missing = await client.get(f"/api/v1/jobs/{job_id}", headers=bearer(other))
    assert missing.status_code == 404 and missing.json()["type"].endswith("not-found")
    assert (await client.get(f"/api/v1/jobs/{job_id}")).status_code == 401
