from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omniretail.catalog.csv_format import fast_gtin
from omniretail.catalog.gtin import GtinError, is_valid_gtin, normalise_gtin, with_check_digit

VALID = {8: "96385074", 12: "036000291452", 13: "4006381333931", 14: "10012345678902"}


@pytest.mark.parametrize("length", sorted(VALID))
def test_valid_gtin_of_each_length(length):
    value = VALID[length]
    assert len(value) == length
    assert normalise_gtin(value) == value
    assert fast_gtin(value) == value


def test_spaces_and_dashes_are_dropped():
    assert normalise_gtin(" 4006381 333931 ") == "4006381333931"
    assert normalise_gtin("400-6381-333931") == "4006381333931"


@pytest.mark.parametrize("length", sorted(VALID))
def test_wrong_check_digit_names_the_expected_one(length):
    value = VALID[length]
    wrong = value[:-1] + str((int(value[-1]) + 1) % 10)
    with pytest.raises(GtinError, match=rf"wrong check digit \(expected {value[-1]}\)"):
        normalise_gtin(wrong)
    assert fast_gtin(wrong) is None


@pytest.mark.parametrize("value", ["123", "1234567", "12345678901", "123456789012345", "1234567890123456"])
def test_wrong_length(value):
    with pytest.raises(GtinError, match=f"8, 12, 13 or 14 digits \\(has {len(value)}\\)"):
        normalise_gtin(value)
    assert not is_valid_gtin(value)


@pytest.mark.parametrize("value", ["40063813339X1", "ABCDEFGH", "4006381333931a"])
def test_not_digits(value):
    with pytest.raises(GtinError, match="digits only"):
        normalise_gtin(value)


def test_empty():
    with pytest.raises(GtinError, match="empty"):
        normalise_gtin("")


@given(st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.text("0123456789", min_size=n, max_size=n)))
def test_completed_bodies_are_valid_and_fast_path_agrees(body):
    gtin = with_check_digit(body)
    assert fast_gtin(gtin) == gtin
    assert is_valid_gtin(gtin) == bool(gtin.strip("0"))  # all zeros is no barcode


@given(st.text("0123456789", min_size=8, max_size=14))
def test_fast_path_never_accepts_what_stdnum_rejects(value):
    if fast_gtin(value) is not None:
        assert is_valid_gtin(value) or not value.strip("0")
    elif len(value) in (8, 12, 13, 14):
        assert not is_valid_gtin(value)
