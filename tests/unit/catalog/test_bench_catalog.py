"""The catalog-import benchmark's generated file is valid and deterministic (no database)."""

from __future__ import annotations

import csv

from omniretail.bench.catalog_import import write_catalog_csv
from omniretail.bench.registry import SCENARIOS
from omniretail.catalog.csv_format import RowParser, parse_header


def test_generated_catalog_parses_without_errors(tmp_path):
    path = tmp_path / "catalog.csv"
    write_catalog_csv(path, 300)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, errors = parse_header(rows[0])
    assert errors == []
    parser = RowParser(header)
    parsed = [parser.parse(cells, n) for n, cells in enumerate(rows[1:], start=2)]
    assert all(not errs for _row, errs in parsed) and len(parsed) == 300
    assert len({cells[7] for cells in rows[1:]}) == 300  # SKUs are unique
    again = tmp_path / "again.csv"
    write_catalog_csv(again, 300)
    assert again.read_bytes() == path.read_bytes()


def test_scenario_is_registered():
    assert "catalog-import" in SCENARIOS
