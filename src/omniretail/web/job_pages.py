"""Background jobs in the back office: start a long operation (catalog CSV import, stock CSV import, Google feed
build, channel reconciliation), watch its progress bar (``static/jobs.js`` polls ``GET /api/v1/jobs/{id}``
every second) and read its result with the per-row errors.

The jobs themselves are ``platform/background.py`` (run by the worker); the kinds are
``omniretail/background_jobs.py``. Starting one queues it in the request's transaction; the uploaded file
waits in ``var_dir/jobs/`` for the worker.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from omniretail import background_jobs as kinds
from omniretail.api.deps import SessionDep
from omniretail.api.jobs import owner_filter
from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.channels.feeds.service import check_buildable
from omniretail.platform import background
from omniretail.platform.errors import DomainError, NotFound, PermissionDenied

from .csrf import CsrfChecked
from .deps import PageRoute, render, signed_in
from .error_text import describe
from .i18n import N_
from .stock_forms import t

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SignedIn = Annotated[Principal, signed_in("catalog:read")]
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
CHUNK = 1024 * 1024

KIND_LABELS = {
    kinds.CATALOG_IMPORT: N_("Catalog import"), kinds.STOCK_IMPORT: N_("Stock import"),
    kinds.FEED_BUILD: N_("Google feed build"), kinds.RECONCILE: N_("Channel reconciliation"),
}
STATE_LABELS = {
    background.QUEUED: N_("Waiting to start"), background.RUNNING: N_("Running"),
    background.SUCCEEDED: N_("Finished"), background.FAILED: N_("Failed"),
}
SUMMARY_LABELS = {
    "rows": N_("Rows read"), "imported": N_("Rows imported"), "products": N_("Products"),
    "errors": N_("Errors"), "bad_rows": N_("Rows with errors"), "seconds": N_("Seconds"),
    "applied": N_("Rows applied"), "movements": N_("Stock movements"), "settings": N_("Settings changed"),
    "items": N_("Items in the feeds"), "left_out": N_("Items left out"), "issues": N_("Issues"),
    "checked": N_("Listings checked"), "drifted": N_("Listings that differed"), "corrected": N_("Corrected"),
    "missing": N_("Missing on the channel"),
}
# who may start each kind
PERMISSIONS = {kinds.CATALOG_IMPORT: "catalog:write", kinds.STOCK_IMPORT: "inventory:write",
               kinds.FEED_BUILD: "channels:write", kinds.RECONCILE: "channels:write"}
SLUGS = {"catalog-import": kinds.CATALOG_IMPORT, "stock-import": kinds.STOCK_IMPORT,
         "feed-build": kinds.FEED_BUILD, "reconcile": kinds.RECONCILE}


async def _channels(session, principal: Principal) -> dict[str, Any]:
    rows, _ = await channels_service.list_channels(session, principal=principal, limit=500, sort="name")
    return {str(c.id): c for c in rows if c.is_active}


async def _start_page(request: Request, session, principal: Principal, *, errors: dict[str, str] | None = None,
                      values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    channels = await _channels(session, principal)
    mine = owner_filter(principal)
    return render(request, "backoffice/jobs.html", {
        "jobs": await background.list_jobs(session, user_id=mine, limit=20),
        "kinds": KIND_LABELS, "states": STATE_LABELS, "errors": errors or {}, "values": values or {},
        "may": {kind: principal.can(p) for kind, p in PERMISSIONS.items()},
        "feed_channels": {k: c.name for k, c in channels.items() if c.kind == "google_merchant"},
        "sync_channels": {k: c.name for k, c in channels.items() if c.kind != "google_merchant"},
    }, status_code=status_code)


@router.get("/backoffice/jobs")
async def jobs_page(request: Request, session: SessionDep, principal: SignedIn) -> Response:
    return await _start_page(request, session, principal)


async def _save_upload(upload: UploadFile, path) -> int:
    """Copy the upload to ``path`` in chunks; returns its size (stops past ``MAX_UPLOAD_BYTES``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with path.open("wb") as out:
        while chunk := await upload.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                break
            out.write(chunk)
    return size


@router.post("/backoffice/jobs/{slug}", dependencies=[CsrfChecked])
async def start_job(request: Request, session: SessionDep, principal: SignedIn, slug: str) -> Response:
    kind = SLUGS.get(slug)
    if kind is None:
        raise NotFound("there is no such page")
    if not principal.can(PERMISSIONS[kind]):
        raise PermissionDenied(f"your role ({principal.role}) may not start this job",
                               permission=PERMISSIONS[kind])
    form = await request.form()
    prefix = slug + "-"
    errors: dict[str, str] = {}
    params: dict[str, Any] = {"actor": principal.label}
    upload = form.get("file")
    if kind in (kinds.CATALOG_IMPORT, kinds.STOCK_IMPORT):
        if not isinstance(upload, UploadFile) or not upload.filename:
            errors[prefix + "file"] = t(request, N_("Choose a CSV file."))
        params.update(skip_bad_rows=form.get("skip_bad_rows") == "1",
                      filename=(upload.filename if isinstance(upload, UploadFile) else "")[:200])
        if kind == kinds.STOCK_IMPORT and principal.location_ids is not None:
            params["scope"] = sorted(principal.location_ids)
    else:
        channels = await _channels(session, principal)
        channel_id = str(form.get("channel_id", ""))
        channel = channels.get(channel_id)
        if channel is None:
            errors[prefix + "channel_id"] = t(request, N_("Choose a channel from the list."))
        elif kind == kinds.FEED_BUILD:
            try:
                check_buildable(kind=channel.kind, settings=channel.settings)
            except DomainError as exc:
                errors[prefix + "channel_id"] = describe(request, exc)
        params["channel_id"] = int(channel_id) if channel is not None else None
    if errors:
        return await _start_page(request, session, principal, errors=errors, status_code=400,
                                 values={prefix + "channel_id": str(form.get("channel_id", ""))})
    job_id = await background.enqueue(session, kind=kind, params=params, created_by=principal.label,
                                      created_by_user_id=principal.user_id)
    if isinstance(upload, UploadFile) and upload.filename:
        path = background.input_path(request.app.state.settings.var_dir, job_id)
        size = await _save_upload(upload, path)
        if size == 0 or size > MAX_UPLOAD_BYTES:
            path.unlink(missing_ok=True)
            message = N_("The file is empty.") if size == 0 else N_("The file is larger than 200 MB.")
            # a 4xx answer rolls the request's transaction back: the job is not queued
            return await _start_page(request, session, principal, errors={prefix + "file": t(request, message)},
                                     status_code=400)
    return RedirectResponse(f"/backoffice/jobs/{job_id}", status_code=303)


@router.get("/backoffice/jobs/{job_id}")
async def job_page(request: Request, session: SessionDep, principal: SignedIn, job_id: int) -> Response:
    job = await background.get_job(session, job_id, user_id=owner_filter(principal))
    return render(request, "backoffice/job.html", {"job": job, "kinds": KIND_LABELS, "states": STATE_LABELS,
                                                   "summary_labels": SUMMARY_LABELS})
