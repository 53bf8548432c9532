"""The store's pick page names each line's product next to its SKU, in the reader's language where the catalog
has the product translated."""

from __future__ import annotations

from sqlalchemy import select, update

from omniretail.catalog.models import Product, ProductTranslation, Variant
from tests.integration.orders.helpers import create_shop

from .conftest import HTML, sign_in
from .test_pickup_pages import _place


async def test_pick_lines_show_the_product_name_translated_where_it_can_be(client, session):
    shop = await create_shop(session)
    order = await _place(client, shop)
    sku = shop.skus[0]
    product_id = (await session.execute(select(Variant.product_id).where(Variant.sku == sku))).scalar_one()
    await session.execute(update(Product).where(Product.id == product_id).values(title="Running shoe"))
    session.add(ProductTranslation(product_id=product_id, locale="pl", title="But do biegania", description=""))
    await session.commit()
    url = f"/store/pickups/{order['fulfilment_orders'][0]['id']}"

    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale="pl")
    page = await client.get(url, headers=HTML)
    assert page.status_code == 200
    assert f'<code>{sku}</code> <span class="product-name">But do biegania</span>' in page.text
    assert "Running shoe" not in page.text

    client.cookies.clear()
    await sign_in(client, session, role="associate", location_ids=[shop.store_a], locale="tr")
    page = await client.get(url, headers=HTML)  # no Turkish title: the product's own
    assert f'<code>{sku}</code> <span class="product-name">Running shoe</span>' in page.text
