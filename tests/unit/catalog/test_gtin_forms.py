"""One barcode, one form: a zero-padded GTIN is the GTIN it pads (GS1 compares GTIN-14s), kept shortest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.catalog.csv_format import RowParser, parse_header
from omniretail.catalog.gtin import GtinError, canonical_gtin, gtin14, normalise_gtin, with_check_digit
from omniretail.catalog.rules import fold_case


@pytest.mark.parametrize(("value", "stored"), [
    ("5901234123457", "5901234123457"), ("05901234123457", "5901234123457"),
    ("036000291452", "036000291452"), ("0036000291452", "036000291452"), ("00036000291452", "036000291452"),
    ("96385074", "96385074"), ("00000096385074", "96385074"), ("10012345678902", "10012345678902"),
])
def test_padded_gtins_are_kept_in_their_shortest_form(value, stored):
    assert normalise_gtin(value) == stored
    assert canonical_gtin(value) == stored
    assert gtin14(stored) == value.rjust(14, "0")


@pytest.mark.parametrize("value", ["0000000000000", "00000000", "000000000000", "00000000000000"])
def test_all_zeros_is_refused(value):
    with pytest.raises(GtinError, match="all zeros"):
        normalise_gtin(value)
    assert canonical_gtin(value) is None


@pytest.mark.parametrize("code", ["FIX-1-A", "590-1234-123457", "5901234123458", "", None, "１２３４５６７０"])
def test_a_code_that_is_no_gtin_reads_as_none(code):
    assert canonical_gtin(code) is None


@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
def test_every_padding_of_a_gtin_has_one_form(body):
    gtin = with_check_digit(body)
    if not gtin.strip("0"):
        return
    forms = {normalise_gtin(gtin.rjust(n, "0")) for n in (8, 12, 13, 14) if n >= len(gtin)}
    assert len(forms) == 1
    assert gtin14(forms.pop()) == gtin.rjust(14, "0")


def test_csv_rows_keep_the_shortest_form_and_refuse_all_zeros():
    header, problems = parse_header(["product_code", "title", "sku", "gtin"])
    assert problems == []
    parser = RowParser(header)
    row, errors = parser.parse(["P-1", "Tent", "P-1-A", "05901234123457"], 2)
    assert not errors and "5901234123457" in row and "05901234123457" not in row
    row, errors = parser.parse(["P-1", "Tent", "P-1-B", "0000000000000"], 3)
    assert row is None and [e.column for e in errors] == ["gtin"] and "all zeros" in errors[0].message


def test_fold_case_folds_polish_turkish_and_albanian_capitals():
    assert fold_case("ŚPIWÓR ŁÓDŹ ÇĞÖŞÜ Ë İSTANBUL") == "śpiwór łódź çğöşü ë istanbul"
