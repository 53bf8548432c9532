"""The channel sync pages in a browser: status with a parked listing, retry, the listings page, the sync log;
each checked with axe-core."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

import pytest

from .helpers import check_page, expect, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def parked_listing(live_server, tmp_path_factory) -> int:
    """A parked Allegro listing of BOOT-TRAIL-42 with its error and a log line, written into the app's database."""
    (path,) = sorted(tmp_path_factory.getbasetemp().glob("e2e*/e2e.db"))[:1]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    with sqlite3.connect(path, timeout=10) as conn:
        channel = conn.execute("SELECT id FROM channel WHERE code = 'allegro'").fetchone()[0]
        variant = conn.execute("SELECT id FROM variant WHERE sku = 'BOOT-TRAIL-42'").fetchone()[0]
        cur = conn.execute(
            "INSERT INTO channel_listing (channel_id, variant_id, external, desired_quantity, desired_published, "
            "desired_version, acked_version, attempts, parked, last_error, last_error_at, created_at, updated_at) "
            "VALUES (?, ?, '{\"offer_id\": \"7741\"}', 12, 1, 3, 1, 8, 1, "
            "'inventory: offer 7741 was ended on Allegro (OFFER_ENDED)', ?, ?, ?)",
            (channel, variant, now, now, now))
        listing = cur.lastrowid
        conn.execute("INSERT INTO channel_sync_log (channel_id, listing_id, variant_id, operation, version, status, "
                     "sent, error, worker, at) VALUES (?, ?, ?, 'inventory', 3, 'parked', '{\"quantity\": 12}', "
                     "'offer 7741 was ended on Allegro', 'e2e', ?)", (channel, listing, variant, now))
    return channel


def test_channel_sync_status_parked_listing_retry_and_log(page, e2e_artifacts, parked_listing):
    sign_in(page)
    page.goto(f"/backoffice/channels/{parked_listing}")
    expect(page.get_by_role("heading", name="Sync status")).to_be_visible()
    expect(page.get_by_text("offer 7741 was ended on Allegro (OFFER_ENDED)")).to_be_visible()
    check_page(page, e2e_artifacts, "30-channel-sync-status")

    page.get_by_role("link", name="BOOT-TRAIL-42").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BOOT-TRAIL-42")
    expect(page.get_by_role("heading", name="Sync log")).to_be_visible()
    check_page(page, e2e_artifacts, "31-channel-listing-log")

    page.get_by_role("link", name="Listings", exact=True).click()
    expect(page.get_by_label("State")).to_be_visible()
    check_page(page, e2e_artifacts, "32-channel-listings")
    page.get_by_role("button", name="Retry BOOT-TRAIL-42").click()
    expect(page).to_have_url(re.compile(r"/listings\?done=retried$"))
    expect(page.get_by_role("status")).to_contain_text("goes out within seconds")
    check_page(page, e2e_artifacts, "33-channel-listing-retried")
