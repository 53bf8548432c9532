"""The demo catalog is one a retailer could have typed: every code passes the catalog's own rules, so an export of
it imports back unchanged."""

import re

from omniretail.catalog.rules import CODE_PATTERN
from omniretail.demo.generator import _code_part, generate_products


def test_every_demo_sku_is_a_valid_code():
    skus = [v.sku for p in generate_products(500) for v in p.variants]
    assert len(skus) > 2000
    assert [s for s in skus if not re.match(CODE_PATTERN, s)] == []
    assert len(set(skus)) == len(skus)


def test_option_values_become_ascii_code_parts():
    assert [_code_part(v) for v in ("biały", "różowy", "żółty", "42,5", "Şık", "XL")] == [
        "BIALY", "ROZOWY", "ZOLTY", "425", "SIK", "XL"]
