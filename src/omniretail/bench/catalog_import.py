"""``omniretail bench catalog-import``: import a generated catalog CSV of N variants into a scratch database.

The import runs in a child process, so ``peak_rss_mb`` is the import's own high-water mark; ``rss_before_mb``
is that process's resident size just before the import started (interpreter and libraries loaded). Compare
--scale 10000 with 100000 to see that memory does not grow with the file.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from omniretail.catalog.gtin import with_check_digit

from .registry import scenario
from .support import peak_rss_mb, scratch_database

DEFAULT_SCALE = 100_000
VARIANTS_PER_PRODUCT = 3
SIZES = ("S", "M", "L", "XL")
COLOURS = ("black", "white", "red", "navy", "green", "grey")
CATEGORIES = ("Shoes/Running", "Shoes/Trail", "Apparel/Tops", "Apparel/Jackets", "Accessories/Bags")
BRANDS = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware")
HEADER = ["product_code", "title", "description", "brand", "category", "status", "vat_rate", "sku", "gtin",
          "mpn", "weight_grams", "image_urls", "option_colour", "option_size", "attr_material", "title_pl",
          "description_pl"]


def write_catalog_csv(path: Path, variants: int) -> None:
    """A deterministic catalog: products of 3 variants, valid GTIN-13s, one image per product."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        for i in range(variants):
            p = i // VARIANTS_PER_PRODUCT
            colour = COLOURS[p % len(COLOURS)]
            writer.writerow([
                f"P{p:07d}", f"Trail runner {p} {colour}", f"Light shoe number {p}, made for long runs.",
                BRANDS[p % len(BRANDS)], CATEGORIES[p % len(CATEGORIES)], "active", "0.23", f"SKU{i:08d}",
                with_check_digit(f"590{i:09d}"), f"MPN-{i}", 250 + i % 300,
                f"https://cdn.example.com/p/{p}.jpg", colour, SIZES[i % VARIANTS_PER_PRODUCT], "mesh",
                f"But biegowy {p}", f"Lekki but numer {p}.",
            ])


def _child(url: str, path: str) -> None:
    """Runs in the child process: import the file and print the summary as JSON."""
    from omniretail.catalog.csv_import import import_catalog_csv
    from omniretail.platform.db import create_database

    async def run(fh) -> dict[str, Any]:
        db = create_database(url, pool_size=2)
        try:
            report = await import_catalog_csv(db, fh, skip_bad_rows=False)
        finally:
            await db.dispose()
        return report.summary()

    before = _current_rss_mb()
    with open(path, newline="", encoding="utf-8-sig") as fh:  # streamed: the import reads it row by row
        summary = asyncio.run(run(fh))
    print(json.dumps({**summary, "rss_before_mb": before, "peak_rss_mb": peak_rss_mb()}))


def _current_rss_mb() -> float:
    """Resident set size right now (Linux), to compare with the peak the import reaches."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return peak_rss_mb()


def _import_in_child(url: str, path: Path) -> dict[str, Any]:
    code = "import sys; from omniretail.bench.catalog_import import _child; _child(sys.argv[1], sys.argv[2])"
    done = subprocess.run([sys.executable, "-c", code, url, str(path)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"catalog import failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _targets(database_url: str | None) -> dict[str, str]:
    if database_url is None:
        return {"sqlite": "sqlite", "postgresql": "postgresql"}
    if database_url in ("sqlite", "postgresql"):
        return {database_url: database_url}
    return {"sqlite" if database_url.startswith("sqlite") else "postgresql": database_url}


@scenario("catalog-import", "Import a generated catalog CSV (N variants) into a scratch database")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    variants = scale or DEFAULT_SCALE
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="omniretail-catalog-") as tmp:
        path = Path(tmp) / "catalog.csv"
        write_catalog_csv(path, variants)
        for name, target in _targets(database_url).items():
            scratch = target in ("sqlite", "postgresql")
            url = scratch_database(target, name="omniretail_bench_catalog") if scratch else target
            outcome = _import_in_child(url, path)
            if outcome["errors"]:
                raise RuntimeError(f"the generated file did not import cleanly on {name}: {outcome}")
            seconds = outcome["seconds"]
            results[name] = {
                "rows": outcome["imported"], "seconds": seconds,
                "rows_per_s": round(outcome["imported"] / seconds) if seconds else None,
                "peak_rss_mb": outcome["peak_rss_mb"],
                "rss_before_mb": outcome["rss_before_mb"],
            }
    return results
