"""``omniretail worker``: run the outbox dispatcher and periodic jobs; inspect and requeue the outbox."""

from __future__ import annotations

import asyncio
import logging
import signal

import click

from omniretail.platform.config import Settings, get_settings


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Deliver what is due now and run the due periodic jobs, then exit")
@click.option("--no-scheduler", is_flag=True, help="Only deliver outbox events (another worker runs the jobs)")
@click.option("--metrics-port", type=int, default=None,
              help="Serve this worker's Prometheus metrics (sync lag, queue depth, errors) on this port")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address for --metrics-port (0.0.0.0: all interfaces)")
@click.pass_context
def worker(ctx: click.Context, once: bool, no_scheduler: bool, metrics_port: int | None,
           metrics_host: str) -> None:
    """Run the worker: outbox consumers (notifications, sync, webhooks) and periodic jobs.

    On PostgreSQL start as many as you need; they share the work. On SQLite `serve` already runs one inside
    the web process; run this only with OMNIRETAIL_INPROCESS_WORKER=false.
    """
    if ctx.invoked_subcommand is not None:
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(_run(once=once, scheduler=not no_scheduler, metrics_port=metrics_port,
                         metrics_host=metrics_host))
    except KeyboardInterrupt:  # pragma: no cover - a second Ctrl-C
        pass


def worker_database(settings: Settings):
    """The worker's pool: up to half the server's pool size (at least 4), opened as needed and then kept —
    no overflow connections opened and closed per burst (a new PostgreSQL backend costs ≈ 10 ms of its CPU
    building its caches); a burst beyond it waits for a pooled connection (``pool_timeout``)."""
    from omniretail.platform.db import create_database

    return create_database(settings.database_url, pool_size=2 * max(2, settings.db_pool_size // 4), pool_overflow=0)


async def _run(*, once: bool, scheduler: bool, metrics_port: int | None = None,
               metrics_host: str = "127.0.0.1") -> None:
    from omniretail import handlers
    from omniretail.platform import gc_tuning
    from omniretail.platform.worker import Worker, WorkerAlreadyRunning

    settings = get_settings()
    db = worker_database(settings)
    try:
        runner = Worker(db, settings, registry=handlers.load(), run_scheduler=scheduler,
                        metrics_port=metrics_port, metrics_host=metrics_host)
        if once:
            while await runner.dispatcher.run_once():
                pass
            if runner.scheduler is not None:
                await runner.scheduler.run_due_jobs()
            return
        gc_tuning.apply(settings.gc_threshold)  # a long-running process: platform/gc_tuning.py
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, runner.stop)
        click.echo(f"worker {runner.worker_id} on {db.backend}; Ctrl-C stops after the event in hand", err=True)
        try:
            await runner.run()
        except WorkerAlreadyRunning as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        await db.dispose()


@worker.command("status")
@click.option("--parked", "show_parked", is_flag=True, help="List parked events with their last error")
def worker_status(show_parked: bool) -> None:
    """The outbox queue per topic, parked events, and the periodic jobs' last runs."""
    for line in asyncio.run(_status(show_parked)):
        click.echo(line)


async def _status(show_parked: bool) -> list[str]:
    from sqlalchemy import select

    from omniretail import handlers
    from omniretail.platform import outbox_admin
    from omniretail.platform.db import create_database, unit_of_work
    from omniretail.platform.scheduler import ScheduledJobState

    registry = handlers.load()
    db = create_database(get_settings().database_url, pool_size=2)
    lines = [f"{'topic':32} {'due':>7} {'claimed':>7} {'backoff':>7} {'parked':>7}  oldest"]
    try:
        async with unit_of_work(db, readonly=True) as session:
            for q in await outbox_admin.queue_status(session):
                note = "" if registry.consumers_for(q.topic) else "  (no consumer registered)"
                lines.append(f"{q.topic:32} {q.due:7} {q.claimed:7} {q.backing_off:7} {q.parked:7}  "
                             f"{q.oldest:%Y-%m-%d %H:%M}{note}")
            jobs = await session.scalars(select(ScheduledJobState).order_by(ScheduledJobState.name))
            for job in jobs.all():
                lines.append(f"job {job.name}: {job.last_status}, last start {job.last_started_at}, "
                             f"runs {job.runs}, failures {job.failures}")
                if job.last_error:
                    lines.append("    " + job.last_error.strip().splitlines()[0])
            if show_parked:
                for event in await outbox_admin.parked_events(session, limit=200):
                    summary = (event.last_error or "").strip().splitlines()  # the error's own line first
                    lines.append(f"parked #{event.id} {event.topic} after {event.attempts} attempt(s) at "
                                 f"{event.parked_at:%Y-%m-%d %H:%M}: {summary[0] if summary else ''}")
    finally:
        await db.dispose()
    return lines


@worker.command("requeue")
@click.option("--id", "ids", type=int, multiple=True, help="Parked event id (repeatable)")
@click.option("--topic", default=None, help="Every parked event of this topic")
def worker_requeue(ids: tuple[int, ...], topic: str | None) -> None:
    """Give parked events a fresh set of attempts, once their cause is fixed."""
    if not ids and not topic:
        raise click.UsageError("name the events: --id N (repeatable) or --topic TOPIC")
    click.echo(f"requeued {asyncio.run(_requeue(list(ids), topic))} event(s)")


async def _requeue(ids: list[int], topic: str | None) -> int:
    from omniretail.platform import outbox_admin
    from omniretail.platform.db import create_database, unit_of_work

    db = create_database(get_settings().database_url, pool_size=2)
    try:
        async with unit_of_work(db) as session:
            return await outbox_admin.requeue_parked(session, ids=ids or None, topic=topic)
    finally:
        await db.dispose()
