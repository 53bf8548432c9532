"""A superscript or other non-ASCII digit typed into a number field is refused next to the field (no 500)."""

from __future__ import annotations

from tests.integration.orders.helpers import associate, create_shop
from tests.integration.orders.returns_helpers import collected_order, store_c

from .conftest import HTML, csrf_from, sign_in


async def test_a_superscript_quantity_is_refused_next_to_the_field(client, session):
    shop = await create_shop(session)
    order = await collected_order(client, session, shop, [(0, 1)], shop.store_a)
    c = await store_c(session)
    await associate(session, c)
    await sign_in(client, session, role="associate", location_ids=[c])
    form = await client.get("/store/returns/take-back", params={"location_id": c, "number": order["number"]},
                            headers=HTML)
    assert form.status_code == 200
    base = {"csrf_token": csrf_from(form), "location_id": str(c), "number": order["number"],
            "reason-0": "wrong_size", "condition-0": "new", "disposition-0": "restock", "refund_method": "cash",
            "refund_amount": ""}
    for typed in ("²", "1²", "①"):
        refused = await client.post("/store/returns/take-back", headers=HTML, data={**base, "quantity-0": typed})
        assert refused.status_code == 400, (typed, refused.status_code)
        assert 'id="f-quantity-0-error"' in refused.text
