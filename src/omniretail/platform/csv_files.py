"""Reading the CSV files people export from spreadsheets.

Excel saves "CSV" with the list separator of the computer's region: a semicolon in Poland, Turkey and Albania
(where the comma is the decimal separator), a comma in English. The importers take either, and tabs, deciding from
the header row (which holds column names only, so it cannot mislead).
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Iterator
from typing import TextIO

DELIMITERS = (",", ";", "\t")


def delimiter_of(header_line: str) -> str:
    """The separator the header row uses most (a comma when it names a single column)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def spreadsheet_rows(text_stream: TextIO) -> Iterator[list[str]]:
    """The file's rows as lists of cells, comma-, semicolon- or tab-separated (see the module docstring).
    Lazy: reading errors (a file not in UTF-8) arise where the rows are read, as with ``csv.reader``."""
    lines = iter(text_stream)
    first = next(lines, "")
    yield from csv.reader(itertools.chain([first], lines), delimiter=delimiter_of(first))
