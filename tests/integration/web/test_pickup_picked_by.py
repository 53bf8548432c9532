"""The store's pickup page says who picked an order by their name (their e-mail when they have no name)."""

from __future__ import annotations

import re

from sqlalchemy import update

from omniretail.auth.models import User
from tests.integration.orders.helpers import create_shop

from .conftest import HTML, csrf_from, sign_in
from .test_pickup_pages import _place


def _picked_by(text: str) -> str:
    match = re.search(r"<dt>Picked by</dt><dd>(.*?)</dd>", text)
    assert match, "the page names no picker"
    return match.group(1)


async def test_picked_by_shows_the_associates_name_or_else_their_email(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop)
    email = await sign_in(client, session, role="associate", location_ids=[shop.store_a])
    url = f"/store/pickups/{order['fulfilment_orders'][0]['id']}"
    token = csrf_from(await client.get(url, headers=HTML))
    started = await client.post(f"{url}/start", data={"csrf_token": token}, headers=HTML)
    assert started.status_code == 303
    assert _picked_by((await client.get(url, headers=HTML)).text) == email  # no name: the e-mail

    await session.execute(update(User).where(User.email == email).values(full_name="Zofia Kowalska"))
    await session.commit()
    page = await client.get(url, headers=HTML)
    assert _picked_by(page.text) == "Zofia Kowalska" and email not in page.text.split("Picked by")[1][:200]
