"""Back office: sales channels. Settings are shown; secrets only by name, never their values.

Each channel page shows its sync status (lag, queue depth, errors, parked listings; ``channels.sync.service``
answers from the database whichever worker did the work), with "Reconcile now"; the listings page lists them
by state (parked first) with the last error and a "Retry" button; a listing's page shows its sync log."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from omniretail.api.deps import SessionDep, SettingsDep
from omniretail.auth.schemas import Principal
from omniretail.channels import service as channels_service
from omniretail.channels.schemas import ChannelKind
from omniretail.channels.sync import service as sync_service
from omniretail.channels.sync.schemas import ListingState
from omniretail.locations import service as locations_service
from omniretail.platform.errors import InvalidInput, NotFound

from .csrf import CsrfChecked
from .deps import ChannelsReader, PageRoute, render, signed_in
from .error_text import describe
from .i18n import N_
from .paging import next_page_url

ChannelsWriter = Annotated[Principal, signed_in("channels:write")]
LISTING_STATES = {ListingState.PARKED.value: N_("Parked"), ListingState.ERROR.value: N_("Failing, retrying"),
                  ListingState.DUE.value: N_("Waiting to be sent"), ListingState.SYNCED.value: N_("In sync")}
DONE = {"retried": N_("The listing is due again and goes out within seconds."),
        "reconcile": N_("Reconciliation was requested: the channel is read back within seconds.")}

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
            errors[exc.extensions.get("field", "q")] = describe(request, exc)
    channels = await channels_service.to_read(session, rows, secret_key=settings.resolved_secret_key())
    return render(request, "backoffice/channels.html", {
        "channels": channels, "kinds": KIND_LABELS, "filters": {"q": q, "kind": kind}, "errors": errors,
        "next_url": next_page_url(request, next_cursor),
    }, status_code=400 if errors else 200)


@router.get("/backoffice/channels/{channel_id}")
async def channel_detail(request: Request, session: SessionDep, settings: SettingsDep,
                         principal: ChannelsReader, channel_id: int, done: str = "") -> Response:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    (read,) = await channels_service.to_read(session, [channel], secret_key=settings.resolved_secret_key())
    locations = []
    for location_id in read.location_ids:
        try:
            locations.append(await locations_service.get_location(session, location_id, principal=principal))
        except NotFound:  # a location this principal may not see stays unnamed
            continue
    status = await sync_service.sync_status(session, channel_id, principal=principal)
    parked, _ = await sync_service.list_listings(session, channel_id, principal=principal,
                                                 state=ListingState.PARKED, limit=10)
    return render(request, "backoffice/channel.html", {
        "channel": read, "kinds": KIND_LABELS, "locations": locations, "settings": displayable(read.settings),
        "sync": status, "parked": parked, "states": LISTING_STATES, "done": DONE.get(done),
        "can_write": principal.can("channels:write"),
    })


@router.get("/backoffice/channels/{channel_id}/listings")
async def channel_listings(request: Request, session: SessionDep, principal: ChannelsReader, channel_id: int,
                           state: str = ListingState.PARKED.value, sku: str = "", cursor: str | None = None,
                           done: str = "") -> Response:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    errors: dict[str, str] = {}
    if state and state not in LISTING_STATES:
        errors["state"] = N_("Choose a state from the list.")
    rows, next_cursor = [], None
    if not errors:
        try:
            rows, next_cursor = await sync_service.list_listings(
                session, channel_id, principal=principal, state=ListingState(state) if state else None,
                sku=sku.strip() or None, cursor=cursor, limit=50)
        except InvalidInput as exc:
            errors[exc.extensions.get("field", "cursor")] = describe(request, exc)
    return render(request, "backoffice/channel_listings.html", {
        "channel": channel, "listings": rows, "states": LISTING_STATES, "filters": {"state": state, "sku": sku},
        "errors": errors, "next_url": next_page_url(request, next_cursor), "done": DONE.get(done),
        "can_write": principal.can("channels:write"),
    }, status_code=400 if errors else 200)


@router.get("/backoffice/channels/{channel_id}/listings/{listing_id}")
async def channel_listing(request: Request, session: SessionDep, principal: ChannelsReader, channel_id: int,
                          listing_id: int, done: str = "") -> Response:
    channel = await channels_service.get_channel(session, channel_id, principal=principal)
    listing = await sync_service.listing_read(session, channel_id, listing_id, principal=principal)
    log = await sync_service.listing_log(session, channel_id, listing_id, principal=principal, limit=100)
    return render(request, "backoffice/channel_listing.html", {
        "channel": channel, "listing": listing, "log": log, "states": LISTING_STATES, "done": DONE.get(done),
        "can_write": principal.can("channels:write"),
    })


@router.post("/backoffice/channels/{channel_id}/listings/{listing_id}/retry", dependencies=[CsrfChecked])
async def retry_listing(request: Request, session: SessionDep, principal: ChannelsWriter, channel_id: int,
                        listing_id: int) -> Response:
    await sync_service.retry_listing(session, channel_id, listing_id, principal=principal)
    back = (await request.form()).get("back")
    target = f"/backoffice/channels/{channel_id}/listings/{listing_id}"
    if back in ("channel", "listings"):
        target = f"/backoffice/channels/{channel_id}" + ("/listings" if back == "listings" else "")
    return RedirectResponse(f"{target}?done=retried", status_code=303)


@router.post("/backoffice/channels/{channel_id}/reconcile", dependencies=[CsrfChecked])
async def reconcile_channel(session: SessionDep, principal: ChannelsWriter, channel_id: int) -> Response:
    await sync_service.request_reconcile(session, channel_id, principal=principal)
    return RedirectResponse(f"/backoffice/channels/{channel_id}?done=reconcile", status_code=303)


def displayable(settings: dict[str, Any]) -> dict[str, Any]:
    """Settings are not secret by contract (the service refuses credential-like keys); mask any that slipped
    in before that rule existed."""
    return {k: ("••••••" if _LOOKS_SECRET.search(k) and not k.lower().endswith(("_url", "_uri")) else v)
            for k, v in settings.items()}
