"""Back office: sales channels. Settings are shown; secrets only by name, never their values."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from omniretail.api.deps import SessionDep, SettingsDep
from omniretail.channels import service as channels_service
from omniretail.channels.schemas import ChannelKind
from omniretail.locations import service as locations_service
from omniretail.platform.errors import InvalidInput, NotFound

from .deps import ChannelsReader, PageRoute, render
from .i18n import N_
from .paging import next_page_url

router = APIRouter(route_class=PageRoute, include_in_schema=False)

_LOOKS_SECRET = re.compile(r"secret|password|passwd|token|api[_-]?key|private[_-]?key|credential",
                           re.IGNORECASE)

KIND_LABELS = {
    ChannelKind.WEBSHOP: N_("Webshop"), ChannelKind.POS: N_("Point of sale"),
    ChannelKind.MOBILE_APP: N_("Mobile app"), ChannelKind.PHONE: N_("Phone orders"),
    ChannelKind.MARKETPLACE_ALLEGRO: "Allegro", ChannelKind.MARKETPLACE_AMAZON: "Amazon",
    ChannelKind.MARKETPLACE_EBAY: "eBay", ChannelKind.MARKETPLACE_TRENDYOL: "Trendyol",
    ChannelKind.GOOGLE_MERCHANT: "Google Merchant Center", ChannelKind.CUSTOM: N_("Custom"),
}


@router.get("/backoffice/channels")
async def channels_list(request: Request, session: SessionDep, settings: SettingsDep,
                        principal: ChannelsReader, q: str = "", kind: str = "",
                        cursor: str | None = None) -> Response:
    errors: dict[str, str] = {}
    if kind and kind not in {k.value for k in ChannelKind}:
        errors["kind"] = N_("Choose a kind from the list.")
    rows, next_cursor = [], None
    if not errors:
        try:
            rows, next_cursor = await channels_service.list_channels(
                session, principal=principal, kind=ChannelKind(kind) if kind else None, q=q.strip() or None,
                cursor=cursor, limit=50, sort="name",
            )
        except InvalidInput as exc:
            errors[exc.extensions.get("field", "q")] = exc.detail
    channels = await channels_service.to_read(session, rows, secret_key=settings.resolved_secret_key())
    return render(request, "backoffice/channels.html", {
        "channels": channels, "kinds": KIND_LABELS, "filters": {"q": q, "kind": kind}, "errors": errors,
        "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


@router.get("/backoffice/channels/{channel_id}")
async def channel_detail(request: Request, session: SessionDep, settings: SettingsDep,
                         principal: ChannelsReader, channel_id: int) -> Response:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    (read,) = await channels_service.to_read(session, [channel], secret_key=settings.resolved_secret_key())
    locations = []
    for location_id in read.location_ids:
        try:
            locations.append(await locations_service.get_location(session, location_id, principal=principal))
        except NotFound:  # a location this principal may not see stays unnamed
            continue
    return render(request, "backoffice/channel.html", {
        "channel": read, "kinds": KIND_LABELS, "locations": locations, "settings": displayable(read.settings),
    })


def displayable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings are not secret by contract (the service refuses credential-like keys); mask any that slipped
    in before that rule existed."""
    return {k: ("••••••" if _LOOKS_SECRET.search(k) and not k.lower().endswith(("_url", "_uri")) else v)
            for k, v in settings.items()}
