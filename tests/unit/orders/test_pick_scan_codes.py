from omniretail.orders.pick_scan import mismatched_lines

LINES = [{"variant_id": 1, "sku": "KO-1-M"}, {"variant_id": 2, "sku": "KO-2-L"}]
CODES = {1: {"KO-1-M", "5901234123457"}, 2: {"KO-2-L", "4006381333931"}}


def test_a_barcode_matches_in_any_zero_padding_and_a_sku_in_any_case():
    assert mismatched_lines(LINES, ["05901234123457", "ko-2-l"], CODES) == []
    assert mismatched_lines(LINES, ["5901234123457", "04006381333931"], CODES) == []


def test_another_products_code_or_a_missing_scan_is_a_mismatch():
    assert mismatched_lines(LINES, ["4006381333931", "KO-2-L"], CODES) == [0]
    assert mismatched_lines(LINES, ["KO-1-M"], CODES) == [1]
