"""The VAT rate of a line: the product's own, or the destination country's for a sale shipped abroad.

Under the EU one-stop shop a shop selling to consumers in another member state charges that state's VAT. A
channel states it in ``settings.vat_by_country`` (``channels.settings``): per destination country, the product's
own rate (its class at home: 0.23 standard, 0.08 and 0.05 reduced in Poland) → the rate of that class there.
Placement applies it to orders with a delivery address (shipped, or to a pickup point); what the customer
collects at a store is taxed at the product's rate, and a marketplace import that states the rate it charged
(``ImportedLine.tax_rate``) keeps that. A rate the table does not list keeps the product's rate.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

RateTable = Mapping[str, Mapping[Decimal, Decimal]]


def rate_table(setting: Mapping[str, Mapping[str, str]] | None) -> RateTable:
    """The setting (checked by ``channels.settings``) as Decimals: country → own rate → rate there."""
    return {country.upper(): {Decimal(own): Decimal(there) for own, there in rates.items()}
            for country, rates in (setting or {}).items()}


def line_rate(own: Decimal, *, country: str | None, table: RateTable) -> Decimal:
    """The rate a line is taxed at when shipped to ``country`` (None: not shipped anywhere)."""
    if not country or not table:
        return own
    return table.get(country.upper(), {}).get(own, own)
