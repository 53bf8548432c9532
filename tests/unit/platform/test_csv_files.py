import io

from omniretail.platform.csv_files import delimiter_of, spreadsheet_rows


def test_the_header_row_decides_the_separator():
    assert delimiter_of("location_code;sku;on_hand\n") == ";"
    assert delimiter_of("location_code,sku,on_hand\n") == ","
    assert delimiter_of("location_code\tsku\n") == "\t"
    assert delimiter_of("sku\n") == ","


def test_rows_keep_decimal_commas_inside_semicolon_files():
    rows = list(spreadsheet_rows(io.StringIO("sku;price\nA-1;19,99\n\"B;2\";5\n")))
    assert rows == [["sku", "price"], ["A-1", "19,99"], ["B;2", "5"]]
