"""Deterministic demo catalog: the same products, variants, GTINs and prices on every run."""

from __future__ import annotations

import itertools
import random
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from omniretail.catalog.gtin import with_check_digit

from . import data

GS1_PREFIX = "590"  # GS1 Poland
COMPANY = "7312"


@dataclass
class DemoVariant:
    sku: str
    gtin: str
    options: dict[str, str]
    weight_grams: int
    base_price: Decimal


@dataclass
class DemoProduct:
    code: str
    category: str
    brand: str
    titles: dict[str, str]
    descriptions: dict[str, str]
    attributes: dict[str, str]
    image_url: str
    variants: list[DemoVariant] = field(default_factory=list)


def _price(base: int, rng: random.Random) -> Decimal:
    raw = base * (0.8 + rng.random() * 0.6)
    return Decimal(int(raw)) + Decimal("0.99")


def generate_products(count: int, seed: int = 42) -> Iterator[DemoProduct]:
    rng = random.Random(seed)
    categories = list(data.CATEGORIES.items())
    item_ref = itertools.count(1)
    for i in range(count):
        path, (type_names, options, base) = categories[i % len(categories)]
        brand = rng.choice(data.BRANDS)
        model = f"{data.MODEL_NAMES[(i // len(categories)) % len(data.MODEL_NAMES)]}"
        generation = i // (len(categories) * len(data.MODEL_NAMES)) + 1
        if generation > 1:
            model = f"{model} {generation}"
        material = rng.choice(data.MATERIALS)
        code = f"KO-{i + 1:05d}"
        titles = {loc: f"{brand} {model} – {name}" for loc, name in type_names.items()}
        descriptions = {
            loc: tpl.format(type=type_names[loc], brand=brand, model=model, material=material)
            for loc, tpl in data.DESCRIPTIONS.items()
        }
        product = DemoProduct(
            code=code, category=path, brand=brand, titles=titles, descriptions=descriptions,
            attributes={"material": material, "season": rng.choice(["całoroczny", "lato", "zima"])},
            image_url=f"https://images.kaszub.example/products/{code.lower()}.jpg",
        )
        price = _price(base, rng)
        names = [name for name, _values in options]
        combos = list(itertools.product(*[values for _name, values in options])) or [()]
        for combo in combos:
            suffix = "-".join(_code_part(v) for v in combo)
            sku = f"{code}-{suffix}" if suffix else code
            body = f"{GS1_PREFIX}{COMPANY}{next(item_ref):05d}"
            product.variants.append(DemoVariant(
                sku=sku, gtin=with_check_digit(body), options=dict(zip(names, combo, strict=True)),
                weight_grams=rng.randint(80, 4000), base_price=price,
            ))
        yield product


_NOT_DECOMPOSED = str.maketrans({"Ł": "L", "ł": "l", "ı": "i", "ß": "ss"})


def _code_part(value: str) -> str:
    """An option value as part of a SKU: upper case ASCII (``catalog.rules.CODE_PATTERN``: "biały" → "BIALY"),
    so an exported catalog imports back as it is."""
    plain = unicodedata.normalize("NFKD", value.translate(_NOT_DECOMPOSED))
    return "".join(ch for ch in plain if ch.isascii() and ch not in " ,").upper()
