from omniretail.inventory import service
from omniretail.inventory.errors import InsufficientStock
from tests.factories import create_location
from tests.integration.inventory.helpers import create_variant, create_channel, assert_invariants
import pytest

async def test_smoke(session):
    loc = await create_location(session)
    loc2 = await create_location(session)
    sku, vid = await create_variant(session)
    mv = await service.receive_stock(session, location_id=loc, lines=[(sku, 10)], actor="t")
    print(mv)
    r = await service.reserve_stock(session, sku=sku, location_id=loc, quantity=4)
    print(r)
    r2 = await service.reserve_stock(session, variant_id=vid, location_id=loc, quantity=6, kind="cart_hold")
    with pytest.raises(InsufficientStock) as e:
        await service.reserve_stock(session, sku=sku, location_id=loc, quantity=1)
    print(e.value.to_problem())
    lvl = await service.consume_reservation(session, reservation_id=r.reservation_id, actor="t")
    print(lvl)
    print(await service.release_reservations(session, reservation_ids=[r2.reservation_id]))
    print(await service.count_stock(session, location_id=loc, lines=[(sku, 3)], actor="t"))
    print(await service.update_level_settings(session, sku=sku, location_id=loc, safety_stock=1, low_stock_threshold=5))
    ch = await create_channel(session, location_ids=[loc, loc2], policy={"share_percent": 50})
    print(await service.availability(session, sku=sku, channel=ch, explain=True))
    print(await service.bulk_availability(session, skus=[sku, "nope"], channel=ch))
    print(await service.bulk_availability(session, skus=[sku, "nope"]))
    print(await service.list_levels(session))
    print(await service.list_movements(session, sku=sku))
    await assert_invariants(session)
    from sqlalchemy import text
    print((await session.execute(text("select topic, coalesce_key, payload from outbox"))).all())
