"""The back office's order page names a return's state and a refund's method in the reader's language."""

from __future__ import annotations

import re

import pytest

from omniretail.orders.returns_schemas import RefundMethod
from omniretail.orders.returns_states import ReturnState
from omniretail.web.order_labels import REFUND_METHODS, RETURN_STATES
from tests.integration.orders.helpers import associate, create_shop
from tests.integration.orders.returns_helpers import collected_order, store_c

from .conftest import HTML, csrf_from, sign_in


def test_every_return_state_and_refund_method_has_a_label():
    assert set(RETURN_STATES) == {s.value for s in ReturnState}
    assert set(REFUND_METHODS) == {m.value for m in RefundMethod}


def _returns_section(text: str) -> str:
    return re.search(r'<section aria-labelledby="returns-heading">.*?</section>', text, re.S).group(0)


@pytest.mark.parametrize(("locale", "state", "method"), [
    ("pl", "Zwrócono pieniądze", "Gotówka"), ("tr", "Geri ödendi", "Nakit"), ("sq", "E rimbursuar", "Para në dorë"),
    ("en", "Refunded", "Cash"),
])
async def test_return_state_and_refund_method_are_translated(client, session, locale, state, method):
    shop = await create_shop(session)
    order = await collected_order(client, session, shop, [(0, 1)], shop.store_a)
    c = await store_c(session)
    await associate(session, c)
    await sign_in(client, session, role="associate", location_ids=[c])
    form = await client.get("/store/returns/take-back", params={"location_id": c, "number": order["number"]},
                            headers=HTML)
    taken = await client.post("/store/returns/take-back", headers=HTML, data={
        "csrf_token": csrf_from(form), "location_id": str(c), "number": order["number"], "reason-0": "wrong_size",
        "condition-0": "new", "disposition-0": "restock", "refund_method": "cash", "refund_amount": "",
        "quantity-0": "1"})
    assert taken.status_code == 303, taken.text

    client.cookies.clear()
    await sign_in(client, session, role="manager", locale=locale)
    page = await client.get(f"/backoffice/orders/{order['id']}", headers=HTML)
    assert page.status_code == 200
    section = _returns_section(page.text)
    assert f"<td>{state}</td>" in section and f"<td>{method}</td>" in section
    if locale != "en":
        assert "<td>refunded</td>" not in section and "<td>cash</td>" not in section
