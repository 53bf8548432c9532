"""Feeds over HTTP.

* ``public_router`` (mounted at the root): ``GET /feeds/{channel_code}/{products.xml|products.tsv|
  local-inventory.tsv|local-inventory.xml}?token=…`` streams the last built file. A wrong or missing token, an
  unknown or inactive channel and a file not built yet all answer the same 404, so nothing leaks.
* ``router`` (under /api/v1): ``POST /channels/{id}/feeds/build`` (channels:write) starts a build that runs
  after the response (202), outside the request's transaction; ``GET /channels/{id}/feeds/report``
  (channels:read) shows the last build's per-item report.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, status
from fastapi.responses import FileResponse

from omniretail.api.deps import SessionDep, SettingsDep, require
from omniretail.api.routing import TransactionalRoute
from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.platform.errors import NotFound

from . import service
from .schemas import FeedBuildRead, FeedReportRead, Severity

public_router = APIRouter(prefix="/feeds", tags=["feeds"], route_class=TransactionalRoute)
router = APIRouter(prefix="/channels", tags=["feeds"], route_class=TransactionalRoute)

Reader = Annotated[Principal, require("channels:read")]
Writer = Annotated[Principal, require("channels:write")]


@public_router.get("/{channel_code}/{file_name}", summary="Fetch a channel's feed (for Google)",
                   response_class=FileResponse, responses={404: {"description": "Unknown feed or wrong token"}})
async def fetch_feed(
    session: SessionDep, settings: SettingsDep, channel_code: str, file_name: str,
    token: Annotated[str | None, Query(description="The feed token from the build answer")] = None,
) -> FileResponse:
    not_found = NotFound("feed not found")
    channel = await channels_service.get_channel_by_code(session, channel_code)
    if channel is None or not service.token_matches(settings.resolved_secret_key(), channel.id, channel.settings,
                                                    token):
        raise not_found
    path = service.feed_file(settings.var_dir, code=channel.code, channel_id=channel.id, name=file_name)
    if path is None or not channel.is_active or channel.kind != service.GOOGLE_MERCHANT:
        raise not_found
    return FileResponse(path, media_type=service.MEDIA_TYPES[file_name] + "; charset=utf-8",
                        headers={"Cache-Control": "no-cache", "X-Robots-Tag": "noindex"})


def _urls(request: Request, channel, secret_key: str) -> dict[str, str]:
    base = str(request.base_url).rstrip("/")
    paths = service.feed_paths(code=channel.code, channel_id=channel.id, settings=channel.settings,
                               secret_key=secret_key)
    return {name: base + path for name, path in paths.items()}


@router.post("/{channel_id}/feeds/build", status_code=status.HTTP_202_ACCEPTED,
             summary="Rebuild a Google Merchant channel's feeds",
             description="The build starts after this answer and reads the catalog, prices and stock as they "
                         "are then; `GET …/feeds/report` shows the outcome. Files are replaced only when complete.")
async def build_feeds(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Writer, channel_id: int,
    background: BackgroundTasks,
) -> FeedBuildRead:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    service.check_buildable(kind=channel.kind, settings=channel.settings)
    background.add_task(service.build_in_background, request.app.state.db, channel.id, var_dir=settings.var_dir)
    return FeedBuildRead(channel_id=channel.id, channel_code=channel.code, status="accepted",
                         report_url=f"{request.url.path.rsplit('/', 1)[0]}/report",
                         urls=_urls(request, channel, settings.resolved_secret_key()))


@router.get("/{channel_id}/feeds/report", summary="The last feed build's report, with its per-item issues")
async def feed_report(
    request: Request, session: SessionDep, settings: SettingsDep, principal: Reader, channel_id: int,
    severity: Severity | None = None,
    limit: Annotated[int, Query(ge=0, le=10_000, description="How many issues to list")] = 1000,
) -> FeedReportRead:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    body = await asyncio.to_thread(service.read_report, settings.var_dir, code=channel.code, channel_id=channel.id)
    if body is None:
        raise NotFound(f"channel {channel.code} has no feed report yet; POST …/feeds/build")
    issues = [i for i in body.get("issues", []) if severity is None or i["severity"] == severity]
    report = FeedReportRead.model_validate({**body, "issues": issues[:limit]})
    if principal.can("channels:write"):
        report.urls = _urls(request, channel, settings.resolved_secret_key())
    return report
