"""Builders for test data. Each returns what it created; no test relies on another's leftovers."""

from __future__ import annotations

import itertools

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.auth import service as auth_service
from omniretail.auth.schemas import Role, UserCreate
from omniretail.locations import service as locations_service
from omniretail.locations.schemas import Capabilities, LocationCreate, LocationKind

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_seq)}"


async def create_location(session: AsyncSession, *, code: str | None = None, kind: str = "store",
                          **fields) -> int:
    caps = fields.pop("capabilities", {"offers_pickup": True, "sells_pos": True, "accepts_returns": True})
    loc = await locations_service.create_location(session, data=LocationCreate(
        code=code or unique("LOC"), name=fields.pop("name", "Test store"), kind=LocationKind(kind),
        latitude=fields.pop("latitude", 52.2297), longitude=fields.pop("longitude", 21.0122),
        capabilities=Capabilities(**caps), **fields,
    ))
    return loc.id


async def create_user_with_token(session: AsyncSession, *, role: str = "owner", location_ids=(),
                                 channel_ids=(), email: str | None = None,
                                 password: str | None = "correct-horse-battery") -> tuple[int, str]:
    user = await auth_service.create_user(session, data=UserCreate(
        email=email or f"{unique('user')}@example.com", role=Role(role), password=password,
        location_ids=list(location_ids), channel_ids=list(channel_ids),
    ))
    _token, plain = await auth_service.create_api_token(session, user_id=user.id, name="test")
    await session.commit()
    return user.id, plain


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def owner_client_headers(session: AsyncSession) -> dict[str, str]:
    _uid, token = await create_user_with_token(session, role="owner")
    return bearer(token)


def problem(response: httpx.Response) -> dict:
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return response.json()


TEST_SECRET_KEY = "test-secret-key-not-for-production"  # the `settings` fixture's secret key


async def create_channel(session: AsyncSession, *, code: str | None = None, kind: str = "webshop",
                         currency: str = "PLN", location_ids=(), secrets: dict[str, str] | None = None,
                         secret_key: str = TEST_SECRET_KEY, **fields) -> int:
    from omniretail.auth.schemas import Principal
    from omniretail.channels import service as channels_service
    from omniretail.channels.schemas import ChannelCreate

    channel = await channels_service.create_channel(session, data=ChannelCreate(
        code=code or unique("CH"), name=fields.pop("name", "Test channel"), kind=kind, currency=currency,
        location_ids=list(location_ids), secrets=secrets or {}, **fields,
    ), principal=Principal.system("tests"), secret_key=secret_key)
    await session.commit()
    return channel.id


async def create_product(session: AsyncSession, *, code: str | None = None, title: str = "Test product",
                         variants: list[dict] | None = None, **fields) -> int:
    from omniretail.catalog import service as catalog_service
    from omniretail.catalog.schemas import ProductCreate

    code = code or unique("PRD")
    product = await catalog_service.create_product(session, data=ProductCreate(
        code=code, title=title, variants=variants if variants is not None else [{"sku": f"{code}-1"}], **fields,
    ))
    await session.commit()
    return product.id


async def create_sku(session: AsyncSession, *, sku: str | None = None) -> tuple[int, str]:
    """A product with one variant, inserted directly (pricing tests need a SKU, not the catalog rules)."""
    from omniretail.catalog.models import Product, Variant

    sku = sku or unique("SKU-")
    product = Product(code=f"P-{sku}", title=f"Product {sku}", description="", brand="", attributes={})
    session.add(product)
    await session.flush()
    variant = Variant(product_id=product.id, sku=sku, mpn="", options={}, attributes={})
    session.add(variant)
    await session.commit()
    return variant.id, sku


async def create_price_list(session: AsyncSession, *, channel_id: int | None = None, code: str | None = None,
                            currency: str | None = None, **fields) -> int:
    from omniretail.auth.schemas import Principal
    from omniretail.pricing import service as pricing_service
    from omniretail.pricing.schemas import PriceListCreate

    price_list = await pricing_service.create_price_list(session, data=PriceListCreate(
        code=code or unique("PL"), name=fields.pop("name", "Test price list"), channel_id=channel_id,
        currency=currency, **fields,
    ), principal=Principal.system("tests"))
    await session.commit()
    return price_list.id


async def set_test_price(session: AsyncSession, price_list_id: int, sku: str, amount: str, **fields) -> int:
    from omniretail.auth.schemas import Principal
    from omniretail.pricing import prices
    from omniretail.pricing.schemas import PriceSet

    _list, row, _status = await prices.set_price(session, price_list_id, sku,
                                                 data=PriceSet(amount=amount, **fields),
                                                 principal=Principal.system("tests"))
    await session.commit()
    return row.id


# --- catalog ------------------------------------------------------------------------------------------

CATALOG_CSV_COLUMNS = ["product_code", "title", "brand", "category", "status", "vat_rate", "sku", "gtin",
                       "weight_grams", "image_urls", "option_colour", "option_size", "attr_material", "title_pl"]


def catalog_csv(rows: list[dict], columns: list[str] | None = None) -> str:
    """CSV text in the catalog import format; cells a row leaves out are blank."""
    import csv
    import io

    columns = columns or CATALOG_CSV_COLUMNS
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return out.getvalue()


def catalog_row(n: int, *, product: str | None = None, **cells) -> dict:
    """A valid catalog CSV row for variant ``n`` (GTIN 590… with its check digit)."""
    from omniretail.catalog.gtin import with_check_digit

    row = {"product_code": product or f"CSV-P{n // 2}", "title": f"Runner {n // 2}", "brand": "Northwind",
           "category": "Shoes/Running", "status": "active", "vat_rate": "0.23", "sku": f"CSV-SKU-{n}",
           "gtin": with_check_digit(f"590{n:09d}"), "weight_grams": "300",
           "image_urls": f"https://cdn.example.com/{n // 2}.jpg", "option_colour": "red",
           "option_size": ("S", "M")[n % 2], "attr_material": "mesh", "title_pl": f"But {n // 2}"}
    row.update(cells)
    return row
