"""Allegro OAuth against the local Allegro: the access token is refreshed before it expires and on a 401, the
rotated pair is stored encrypted, and a worker holding a stale pair adopts the stored one instead of spending a
refresh token twice (Allegro rotates refresh tokens: a spent one answers 400 invalid_grant)."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from omniretail.channels import service as channels_service
from omniretail.channels.connectors.base import ChannelRejected, ListingRef
from omniretail.channels.models import Channel
from omniretail.channels.sync.connections import Connections
from omniretail.platform.db import unit_of_work
from tests.channel_servers.allegro import FakeAllegro
from tests.channel_servers.runner import serve
from tests.factories import TEST_SECRET_KEY, create_channel


@pytest.fixture
def allegro():
    fake = FakeAllegro(process_delay_s=0.02)
    fake.add_offer("OF1", quantity=3, price="9.99")
    with serve(fake.app) as url:
        fake.url = url
        yield fake


async def _channel(session, fake: FakeAllegro, *, lifetime_s: float) -> tuple[int, dict]:
    issued = fake.issue_tokens(lifetime_s=lifetime_s)
    secrets = {"access_token": issued["access_token"], "refresh_token": issued["refresh_token"],
               "access_token_expires_at": f"{time.time() + lifetime_s:.0f}",
               "client_id": fake.client_id, "client_secret": fake.client_secret}
    channel_id = await create_channel(session, kind="marketplace_allegro", secrets=secrets,
                                      settings={"base_url": fake.url, "auth_url": fake.url})
    return channel_id, secrets


async def _stored(db, channel_id: int) -> tuple[dict, str]:
    async with unit_of_work(db, readonly=True) as session:
        secrets = await channels_service.channel_secrets(session, channel_id, secret_key=TEST_SECRET_KEY)
        raw = await session.scalar(select(Channel.secrets_encrypted).where(Channel.id == channel_id))
    return secrets, raw


async def _read_offer(connector) -> int | None:
    (state,) = await connector.read_back([ListingRef(1, 1, "SKU1", {"offer_id": "OF1"}, 0)])
    return state.quantity


async def test_a_token_about_to_expire_is_refreshed_first_and_the_new_pair_is_stored_encrypted(db, session, allegro):
    channel_id, old = await _channel(session, allegro, lifetime_s=60)  # within the 5-minute margin
    async with httpx.AsyncClient() as http:
        handle = await Connections(db, secret_key=TEST_SECRET_KEY, http=http).get(channel_id)
        assert await _read_offer(handle.connector) == 3
    assert allegro.refreshes == 1
    stored, raw = await _stored(db, channel_id)
    assert stored["access_token"] != old["access_token"] and stored["refresh_token"] != old["refresh_token"]
    assert float(stored["access_token_expires_at"]) > time.time() + 40000  # expires_in 43199 s
    assert stored["client_id"] == allegro.client_id  # the other secrets are kept
    assert stored["access_token"] not in raw and stored["refresh_token"] not in raw  # encrypted at rest
    assert old["refresh_token"] not in allegro.refresh_tokens  # spent: rotation


async def test_a_401_refreshes_once_and_resends_the_request(db, session, allegro):
    channel_id, old = await _channel(session, allegro, lifetime_s=3600)  # not due by the clock
    async with httpx.AsyncClient() as http:
        handle = await Connections(db, secret_key=TEST_SECRET_KEY, http=http).get(channel_id)
        assert await _read_offer(handle.connector) == 3
        assert allegro.refreshes == 0
        allegro.revoke_access_tokens()  # e.g. the seller revoked it, or it expired early
        assert await _read_offer(handle.connector) == 3
    assert allegro.refreshes == 1
    assert [p for m, p in allegro.behaviour.requests].count("/sale/offers/OF1") == 3  # ok, 401, resent ok
    stored, _ = await _stored(db, channel_id)
    assert stored["access_token"] != old["access_token"]


async def test_a_worker_with_a_stale_pair_adopts_the_stored_one_instead_of_spending_the_refresh_token(
        db, session, allegro):
    channel_id, _old = await _channel(session, allegro, lifetime_s=3600)
    async with httpx.AsyncClient() as http:
        first = await Connections(db, secret_key=TEST_SECRET_KEY, http=http).get(channel_id)
        second = await Connections(db, secret_key=TEST_SECRET_KEY, http=http).get(channel_id)  # another worker
        allegro.revoke_access_tokens()
        assert await _read_offer(first.connector) == 3  # refreshes: the old refresh token is spent
        assert await _read_offer(second.connector) == 3  # 401 with its stale token: adopts the stored pair
    assert allegro.refreshes == 1
    stored, _ = await _stored(db, channel_id)
    assert second.connector.channel.secrets["access_token"] == stored["access_token"]


async def test_a_spent_refresh_token_is_a_clear_non_retryable_error(db, session, allegro):
    channel_id, old = await _channel(session, allegro, lifetime_s=10)
    allegro.refresh_tokens.discard(old["refresh_token"])  # spent elsewhere (or older than 3 months)
    async with httpx.AsyncClient() as http:
        handle = await Connections(db, secret_key=TEST_SECRET_KEY, http=http).get(channel_id)
        with pytest.raises(ChannelRejected, match="authorize the application again") as caught:
            await _read_offer(handle.connector)
    assert caught.value.retryable is False and caught.value.answer["error"] == "invalid_grant"
