"""The phantom-stock page: rejected picks per store and SKU with the caution buffer in force, filtered by
location, within the locations the signed-in user may see."""

from __future__ import annotations

import re

from omniretail.inventory import phantom
from tests.factories import create_location, create_sku, unique

from .conftest import HTML, sign_in


def _row(page: str, sku: str, code: str) -> list[str]:
    """The cells of the row for ``sku`` at ``code``, as text."""
    row = rf'<tr data-sku="{re.escape(sku)}" data-location="{re.escape(code)}">(.*?)</tr>'
    match = re.search(row, page, re.DOTALL)
    assert match, f"no row for {sku} at {code}"
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", match[1], re.DOTALL)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


async def _rejected(session):
    """Store A rejected SKU 0 three times (buffer 2 with the default rule) and SKU 1 once; store B SKU 0 once."""
    code_a, code_b = unique("PHA"), unique("PHB")
    store_a = await create_location(session, code=code_a, name="Phantom store A")
    store_b = await create_location(session, code=code_b, name="Phantom store B")
    ids = {sku: variant_id for variant_id, sku in [await create_sku(session, sku=unique("PH-")) for _ in range(2)]}
    skus = list(ids)
    for quantity in (2, 1, 1):
        await phantom.record_rejection(session, variant_id=ids[skus[0]], location_id=store_a, quantity=quantity,
                                       reason="not_found")
    await phantom.record_rejection(session, variant_id=ids[skus[1]], location_id=store_a, quantity=1,
                                   reason="damaged")
    await phantom.record_rejection(session, variant_id=ids[skus[0]], location_id=store_b, quantity=1,
                                   reason="not_found")
    await phantom.record_clean_picks(session, location_id=store_a, variant_ids=[ids[skus[0]]])
    await session.commit()
    return (store_a, code_a), (store_b, code_b), skus


async def test_rejections_units_clean_picks_and_buffer_per_store_and_sku(client, session):
    (store_a, code_a), (_store_b, code_b), skus = await _rejected(session)
    await sign_in(client, session, role="manager")
    page = await client.get("/backoffice/stock/phantom", headers=HTML)
    assert page.status_code == 200
    assert 'aria-current="page">Phantom stock<' in page.text  # in the stock pages' own navigation
    cells = _row(page.text, skus[0], code_a)
    assert cells[:4] == [skus[0], code_a, "3", "4"]  # rejections, units
    assert "Not found" in cells[4]
    assert cells[5:] == ["1", "2"]  # one clean pick since; a buffer of 2 after the 2nd and 3rd strike
    damaged = _row(page.text, skus[1], code_a)
    assert damaged[2:4] == ["1", "1"] and "Damaged" in damaged[4]
    assert _row(page.text, skus[0], code_b)[6] == "0"  # one strike: no buffer yet

    only_a = await client.get("/backoffice/stock/phantom", params={"location_id": str(store_a)}, headers=HTML)
    assert only_a.status_code == 200
    assert f'data-location="{code_a}"' in only_a.text and f'data-location="{code_b}"' not in only_a.text
    assert only_a.text.index(f'data-sku="{skus[0]}"') < only_a.text.index(f'data-sku="{skus[1]}"')  # most first

    bad = await client.get("/backoffice/stock/phantom", params={"location_id": "999999"}, headers=HTML)
    assert bad.status_code == 400
    assert 'id="f-location_id-error"' in bad.text and "Choose a location from the list." in bad.text


async def test_an_associate_sees_only_their_store_and_a_clean_store_says_so(client, session):
    (store_a, code_a), (store_b, code_b), _skus = await _rejected(session)
    clean = await create_location(session, code=unique("PHC"), name="Clean store")
    await session.commit()
    await sign_in(client, session, role="associate", location_ids=[store_b, clean], locale="pl")
    page = await client.get("/backoffice/stock/phantom", headers=HTML)
    assert page.status_code == 200
    assert f'data-location="{code_b}"' in page.text and f'data-location="{code_a}"' not in page.text
    assert "<h1>Fantomowe stany</h1>" in page.text
    other = await client.get("/backoffice/stock/phantom", params={"location_id": str(store_a)}, headers=HTML)
    assert other.status_code == 400 and 'id="f-location_id-error"' in other.text
    empty = await client.get("/backoffice/stock/phantom", params={"location_id": str(clean)}, headers=HTML)
    assert empty.status_code == 200 and "<tbody>" not in empty.text
    assert 'class="empty"' in empty.text


async def test_signed_out_is_sent_to_the_sign_in_form(client):
    page = await client.get("/backoffice/stock/phantom", headers=HTML)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
