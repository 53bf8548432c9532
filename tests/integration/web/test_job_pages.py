"""Background job pages: start an import with an upload, the job page with its progress bar (polling the JSON
API), the result with per-row errors; field errors next to the fields; who may start what."""

from __future__ import annotations

from omniretail.platform import background
from omniretail.platform.dispatcher import OutboxDispatcher
from omniretail.platform.jobs import Registry, WorkerContext
from tests.factories import catalog_csv, catalog_row, create_channel, create_location, unique
from tests.integration.web.conftest import HTML, csrf_from, sign_in


def _dispatcher(db, settings) -> OutboxDispatcher:
    registry = Registry()
    registry.handles(background.TOPIC)(background.run_job_event)
    return OutboxDispatcher(WorkerContext(db=db, settings=settings, worker_id="test-pages"), registry)


async def _start(client, slug: str, data: dict, files=None):
    token = csrf_from(await client.get("/backoffice/jobs", headers=HTML))
    return await client.post(f"/backoffice/jobs/{slug}", data={"csrf_token": token, **data}, files=files,
                             headers=HTML)


async def test_catalog_import_with_a_bad_row_from_upload_to_result(client, session, db, settings):
    await sign_in(client, session, role="manager")
    prefix = unique("JP")
    text = catalog_csv([catalog_row(0, product=f"{prefix}-0", sku=f"{prefix}-0"),
                        catalog_row(1, product=f"{prefix}-1", sku=f"{prefix}-1", gtin="42")])
    started = await _start(client, "catalog-import", {"skip_bad_rows": "1"},
                           files={"file": ("catalog.csv", text.encode(), "text/csv")})
    assert started.status_code == 303, started.text
    url = started.headers["location"]
    job_id = int(url.rsplit("/", 1)[1])
    waiting = await client.get(url, headers=HTML)
    assert waiting.status_code == 200
    assert "<progress" in waiting.text and f'data-job-url="/api/v1/jobs/{job_id}"' in waiting.text
    assert 'src="/static/jobs.js"' in waiting.text and 'role="status"' in waiting.text
    assert "catalog.csv" in waiting.text
    api = await client.get(f"/api/v1/jobs/{job_id}")  # what jobs.js asks, with the session cookie
    assert api.status_code == 200 and api.json()["state"] == "queued"
    await _dispatcher(db, settings).run_once()
    done = await client.get(url, headers=HTML)
    assert "<progress" not in done.text and 'id="job-errors"' in done.text
    assert "The job finished." in done.text and "1 problem in the file" in done.text
    assert "<th scope=\"row\">3</th>" in done.text and "gtin" in done.text
    body = (await client.get(f"/api/v1/jobs/{job_id}")).json()
    assert body["finished"] and body["percent"] == 100 and body["result"]["summary"]["imported"] == 1
    listing = await client.get("/backoffice/jobs", headers=HTML)
    assert f'href="/backoffice/jobs/{job_id}"' in listing.text


async def test_a_stock_import_that_fails_shows_why(client, session, db, settings):
    await sign_in(client, session, role="owner")
    text = "location_code,sku,on_hand\nNO-SUCH-STORE,NO-SUCH-SKU,5\n"
    started = await _start(client, "stock-import", {}, files={"file": ("stock.csv", text.encode(), "text/csv")})
    assert started.status_code == 303
    await _dispatcher(db, settings).run_once()
    page = await client.get(started.headers["location"], headers=HTML)
    assert "The job failed." in page.text and 'id="job-errors"' in page.text and "NO-SUCH" in page.text


async def test_field_errors_next_to_the_fields(client, session):
    await sign_in(client, session, role="manager")
    no_file = await _start(client, "catalog-import", {})
    assert no_file.status_code == 400
    assert 'id="f-catalog-import-file-error"' in no_file.text and "Choose a CSV file." in no_file.text
    assert 'aria-describedby="f-catalog-import-file-hint f-catalog-import-file-error"' in no_file.text
    empty = await _start(client, "stock-import", {}, files={"file": ("empty.csv", b"", "text/csv")})
    assert empty.status_code == 400 and "The file is empty." in empty.text
    webshop = await create_channel(session, kind="webshop")
    await session.commit()
    not_google = await _start(client, "feed-build", {"channel_id": str(webshop)})
    assert not_google.status_code == 400 and 'id="f-feed-build-channel_id-error"' in not_google.text
    nowhere = await _start(client, "reconcile", {"channel_id": "999999"})
    assert nowhere.status_code == 400 and 'id="f-reconcile-channel_id-error"' in nowhere.text
    assert (await _start(client, "defragment", {})).status_code == 404


async def test_who_may_start_and_see_jobs(client, session, db, settings):
    await sign_in(client, session, role="manager")
    started = await _start(client, "catalog-import", {}, files={"file": ("c.csv", b"product_code\n", "text/csv")})
    url = started.headers["location"]
    client.cookies.clear()
    await sign_in(client, session, role="analyst")
    assert (await client.get(url, headers=HTML)).status_code == 200  # analysts read every job
    page = await client.get("/backoffice/jobs", headers=HTML)
    assert "Start the import" not in page.text
    denied = await _start(client, "catalog-import", {}, files={"file": ("c.csv", b"x", "text/csv")})
    assert denied.status_code == 403
    client.cookies.clear()
    store = await create_location(session)
    await sign_in(client, session, role="associate", location_ids=[store])
    assert (await client.get(url, headers=HTML)).status_code == 404  # someone else's job
