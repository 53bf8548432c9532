"""Back-office channel pages: sync status with parked listings and their errors, retry and reconcile buttons
(CSRF-checked, channels:write), the listings page with its state filter, a listing's sync log."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update

from omniretail.auth.schemas import Principal
from omniretail.channels.sync import service as sync_service
from omniretail.channels.sync.models import ChannelListing, ChannelSyncCursor, ChannelSyncLog
from omniretail.channels.sync.schemas import ListingLink
from tests.factories import create_channel, create_location, create_sku, unique
from tests.integration.web.conftest import HTML, csrf_from, sign_in

L = ChannelListing.__table__


async def _parked_listing(session) -> tuple[int, int, str]:
    store = await create_location(session)
    channel_id = await create_channel(session, kind="marketplace_allegro", name="Allegro shop",
                                      location_ids=[store], settings={"base_url": "http://127.0.0.1:9"})
    _variant, sku = await create_sku(session, sku=unique("PAGE-"))
    await sync_service.link_listings(session, channel_id, principal=Principal.system("tests"),
                                     items=[ListingLink(sku=sku, external={"offer_id": "OF-404"})])
    listing_id = await session.scalar(select(L.c.id).where(L.c.channel_id == channel_id))
    now = datetime.now(UTC)
    await session.execute(update(L).where(L.c.id == listing_id).values(
        desired_quantity=4, desired_version=3, acked_version=1, parked=True, attempts=8,
        last_error="inventory: offer OF-404 not found (NOT_FOUND)", last_error_at=now))
    session.add(ChannelSyncLog(channel_id=channel_id, listing_id=listing_id, operation="inventory", version=3,
                               status="parked", sent={"quantity": 4}, error="offer OF-404 not found",
                               worker="w1", at=now))
    await session.commit()
    return channel_id, listing_id, sku


async def test_the_channel_page_shows_sync_status_and_parked_listings_with_their_error(client, session):
    channel_id, listing_id, sku = await _parked_listing(session)
    await sign_in(client, session, role="owner")
    page = await client.get(f"/backoffice/channels/{channel_id}", headers=HTML)
    assert page.status_code == 200
    for text in ("Sync status", "Parked listings", sku, "offer OF-404 not found (NOT_FOUND)", "Reconcile now",
                 f"/backoffice/channels/{channel_id}/listings/{listing_id}/retry"):
        assert text in page.text, text

    log_page = await client.get(f"/backoffice/channels/{channel_id}/listings/{listing_id}", headers=HTML)
    assert log_page.status_code == 200
    assert "Sync log" in log_page.text and "offer OF-404 not found" in log_page.text and "parked" in log_page.text


async def test_retry_unparks_the_listing_and_moves_its_version_on(client, session):
    channel_id, listing_id, _sku = await _parked_listing(session)
    await sign_in(client, session, role="owner")
    page = await client.get(f"/backoffice/channels/{channel_id}", headers=HTML)
    url = f"/backoffice/channels/{channel_id}/listings/{listing_id}/retry"
    refused = await client.post(url, data={"back": "channel"}, headers=HTML)  # no CSRF token
    assert refused.status_code == 403
    done = await client.post(url, data={"csrf_token": csrf_from(page), "back": "channel"}, headers=HTML)
    assert done.status_code == 303 and done.headers["location"] == f"/backoffice/channels/{channel_id}?done=retried"
    row = (await session.execute(select(L).where(L.c.id == listing_id))).one()
    assert (row.parked, row.attempts, row.desired_version) == (False, 0, 4)
    after = await client.get(done.headers["location"], headers=HTML)
    assert "goes out within seconds" in after.text and "No parked listings." in after.text


async def test_reconcile_now_is_recorded_for_the_worker(client, session):
    channel_id, _listing_id, _sku = await _parked_listing(session)
    await sign_in(client, session, role="owner")
    page = await client.get(f"/backoffice/channels/{channel_id}", headers=HTML)
    done = await client.post(f"/backoffice/channels/{channel_id}/reconcile",
                             data={"csrf_token": csrf_from(page)}, headers=HTML)
    assert done.status_code == 303
    requested = await session.scalar(select(ChannelSyncCursor.value).where(
        ChannelSyncCursor.channel_id == channel_id, ChannelSyncCursor.name == "reconcile_requested"))
    assert requested
    assert "Reconciliation was requested" in (await client.get(done.headers["location"], headers=HTML)).text


async def test_the_listings_page_filters_by_state_and_reports_a_bad_filter_next_to_the_field(client, session):
    channel_id, _listing_id, sku = await _parked_listing(session)
    await sign_in(client, session, role="owner")
    parked = await client.get(f"/backoffice/channels/{channel_id}/listings?state=parked", headers=HTML)
    synced = await client.get(f"/backoffice/channels/{channel_id}/listings?state=synced", headers=HTML)
    assert parked.status_code == synced.status_code == 200
    assert sku in parked.text and sku not in synced.text
    bad = await client.get(f"/backoffice/channels/{channel_id}/listings?state=bogus", headers=HTML)
    assert bad.status_code == 400
    assert 'id="f-state-error"' in bad.text and 'aria-invalid="true"' in bad.text


async def test_a_reader_sees_the_status_but_no_buttons_and_may_not_retry(client, session):
    channel_id, listing_id, _sku = await _parked_listing(session)
    await sign_in(client, session, role="analyst")
    page = await client.get(f"/backoffice/channels/{channel_id}", headers=HTML)
    assert page.status_code == 200 and "Sync status" in page.text
    assert "Reconcile now" not in page.text and "/retry" not in page.text
    token = csrf_from(page) if 'name="csrf_token"' in page.text else ""
    refused = await client.post(f"/backoffice/channels/{channel_id}/listings/{listing_id}/retry",
                                data={"csrf_token": token}, headers=HTML)
    assert refused.status_code == 403
    assert (await session.execute(select(L.c.parked).where(L.c.id == listing_id))).scalar() is True
