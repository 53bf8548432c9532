"""Builders for inventory tests: variants, channels with source locations, and invariant checks."""

from __future__ import annotations

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.catalog.models import Product, Variant
from omniretail.channels.models import Channel, ChannelLocation
from tests.factories import unique


async def create_variants(session: AsyncSession, *skus: str) -> dict[str, int]:
    product_id = (await session.execute(insert(Product).values(
        code=unique("PRD"), title="Test product", description="", brand="", attributes={}, status="active",
    ).returning(Product.id))).scalar_one()
    ids = {}
    for sku in skus:
        ids[sku] = (await session.execute(insert(Variant).values(
            product_id=product_id, sku=sku, mpn="", options={}, attributes={}, is_active=True,
        ).returning(Variant.id))).scalar_one()
    return ids


async def create_variant(session: AsyncSession, sku: str | None = None) -> tuple[str, int]:
    sku = sku or unique("SKU-")
    return sku, (await create_variants(session, sku))[sku]


async def create_channel(session: AsyncSession, *, location_ids: list[int], policy: dict | None = None,
                         code: str | None = None) -> str:
    code = code or unique("ch")
    channel_id = (await session.execute(insert(Channel).values(
        code=code, name=code, kind="webshop", currency="PLN", locale="pl", settings={},
        stock_policy=policy or {},
    ).returning(Channel.id))).scalar_one()
    for priority, location_id in enumerate(location_ids):
        await session.execute(insert(ChannelLocation).values(channel_id=channel_id, location_id=location_id,
                                                             priority=priority))
    return code


async def channel_id(session: AsyncSession, code: str) -> int:
    return (await session.execute(text("SELECT id FROM channel WHERE code = :c"), {"c": code})).scalar_one()


async def assert_invariants(session: AsyncSession) -> None:
    """The ledger adds up, reserved equals the open reservations, nothing is oversold."""
    bad_ledger = (await session.execute(text(
        "SELECT s.variant_id, s.location_id, s.on_hand, COALESCE(SUM(m.quantity), 0) AS ledger "
        "FROM stock_level s LEFT JOIN stock_movement m ON m.variant_id = s.variant_id "
        "AND m.location_id = s.location_id GROUP BY s.variant_id, s.location_id, s.on_hand "
        "HAVING s.on_hand <> COALESCE(SUM(m.quantity), 0)"))).all()
    assert bad_ledger == [], f"on_hand differs from the ledger: {bad_ledger}"
    bad_reserved = (await session.execute(text(
        "SELECT s.variant_id, s.location_id, s.reserved, COALESCE(SUM(r.quantity), 0) AS open_sum "
        "FROM stock_level s LEFT JOIN reservation r ON r.variant_id = s.variant_id "
        "AND r.location_id = s.location_id AND r.state = 'open' GROUP BY s.variant_id, s.location_id, s.reserved "
        "HAVING s.reserved <> COALESCE(SUM(r.quantity), 0)"))).all()
    assert bad_reserved == [], f"reserved differs from open reservations: {bad_reserved}"
    orphans = (await session.execute(text(
        "SELECT r.id FROM reservation r LEFT JOIN stock_level s ON s.variant_id = r.variant_id "
        "AND s.location_id = r.location_id WHERE r.state = 'open' AND s.variant_id IS NULL"))).all()
    assert orphans == [], f"open reservations without a level: {orphans}"
    oversold = (await session.execute(text(
        "SELECT s.variant_id, s.location_id, s.on_hand, s.reserved FROM stock_level s "
        "LEFT JOIN location_stock_settings ls ON ls.location_id = s.location_id "
        "WHERE s.on_hand < s.reserved AND NOT COALESCE(ls.allow_negative_stock, false)"))).all()
    assert oversold == [], f"oversold (reserved above on hand): {oversold}"
