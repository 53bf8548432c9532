"""The set-based half of the CSV import: a staging table, the checks across rows, and the merge.

Valid rows are sent a batch at a time into a temporary table (``COPY`` on PostgreSQL through the asyncpg
connection, ``executemany`` on SQLite), so Python memory stays flat whatever the file size. For each batch the
database checks what needs other rows (duplicates in the file, products whose rows disagree, GTINs and SKUs
owned by other records) and then merges the batch into ``product``, ``product_translation``,
``product_media``, ``variant`` and ``outbox`` with ``INSERT … SELECT … ON CONFLICT`` statements.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock

from .csv_format import STAGED_FIELDS, CsvError, CsvHeader

STAGING = "catalog_import_row"
PRODUCTS = "catalog_import_product"  # the products whose first row is in the current batch
_COLUMNS = [f if f != "category" else "category_id" for f in STAGED_FIELDS]
_PRODUCT_DIFF_FIELDS = ("title", "description", "brand", "category_id", "status", "vat_rate", "attributes",
                        "translations", "image_urls")
_TABLE = """(row_no INTEGER PRIMARY KEY, product_code TEXT NOT NULL, title TEXT NOT NULL,
    description TEXT NOT NULL, brand TEXT NOT NULL, category_id BIGINT, status TEXT NOT NULL,
    vat_rate NUMERIC(5, 4) NOT NULL, attributes TEXT, translations TEXT, image_urls TEXT,
    fingerprint BIGINT NOT NULL, sku TEXT NOT NULL, gtin TEXT, mpn TEXT NOT NULL, weight_grams INTEGER,
    options TEXT{extra})"""
_IN_BATCH = "s.row_no BETWEEN :lo AND :hi"

# (column, query over the batch's rows -> (row_no, value, detail), message); the first finding per cell wins
CHECKS = (
    ("sku", f"""SELECT s.row_no, s.sku, MIN(e.row_no) FROM {STAGING} s
        JOIN {STAGING} e ON e.sku = s.sku AND e.row_no < s.row_no
        WHERE {_IN_BATCH} GROUP BY s.row_no, s.sku""",
     "duplicate SKU {1!r} in the file (first on row {2})"),
    ("gtin", f"""SELECT d.row_no, d.gtin, d.first_row, f.sku FROM (
            SELECT s.row_no, s.gtin, MIN(e.row_no) AS first_row FROM {STAGING} s
            JOIN {STAGING} e ON e.gtin = s.gtin AND e.row_no < s.row_no AND e.sku <> s.sku
            WHERE {_IN_BATCH} GROUP BY s.row_no, s.gtin) d
        JOIN {STAGING} f ON f.row_no = d.first_row""",
     "GTIN {1} is used twice in the file (row {2} gives it to SKU {3!r})"),
    ("gtin", f"""SELECT s.row_no, s.gtin, v.sku FROM {STAGING} s JOIN variant v ON v.gtin = s.gtin
        WHERE {_IN_BATCH} AND v.sku <> s.sku""",
     "GTIN {1} already belongs to SKU {2!r} in the catalog"),
    ("sku", f"""SELECT s.row_no, s.sku, p.code FROM {STAGING} s JOIN variant v ON v.sku = s.sku
        JOIN product p ON p.id = v.product_id WHERE {_IN_BATCH} AND p.code <> s.product_code""",
     "SKU {1!r} already belongs to product {2!r} in the catalog"),
)
_PRODUCT_DIFFERENCES = f"""SELECT s.row_no, f.row_no, s.product_code,
        {", ".join(f"s.{c}, f.{c}" for c in _PRODUCT_DIFF_FIELDS)}
    FROM {STAGING} s
    JOIN (SELECT e.product_code, MIN(e.row_no) AS first_row FROM {STAGING} e
          WHERE e.product_code IN (SELECT product_code FROM {STAGING} WHERE row_no BETWEEN :lo AND :hi)
          GROUP BY e.product_code) g ON g.product_code = s.product_code
    JOIN {STAGING} f ON f.row_no = g.first_row
    WHERE {_IN_BATCH} AND s.fingerprint <> f.fingerprint"""
# products met for the first time in this batch (a product's later rows only add variants)
_NEW_PRODUCTS = f"""SELECT s.* FROM {STAGING} s
    JOIN (SELECT product_code, MIN(row_no) AS first_row FROM {STAGING} WHERE row_no BETWEEN :lo AND :hi
          GROUP BY product_code) g ON s.row_no = g.first_row
    WHERE NOT EXISTS (SELECT 1 FROM {STAGING} e WHERE e.product_code = s.product_code AND e.row_no < :lo)"""


class Staging:
    """One import's staging tables on the session's connection (SQLite flavour; PostgreSQL below)."""

    json = "{0}"
    json_each = ", json_each({0}) AS t"
    json_array = ", json_each({0}) AS m"  # m.value: the element, m.key: its index
    json_object = "json_object"
    element = "json_extract({0}, '$[{1}]')"
    now = ":now"
    temporary = "CREATE TEMPORARY TABLE {0} {1}"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def for_session(session: AsyncSession) -> Staging:
        postgres = session.get_bind().dialect.name == "postgresql"
        return _PostgresStaging(session) if postgres else Staging(session)

    async def _exec(self, sql: str, params: dict | None = None):
        return await self.session.execute(text(sql), params or {})

    catalog_was_empty = False

    async def create(self) -> None:
        self.started = self._now()
        self.catalog_was_empty = (await self._exec("SELECT 1 FROM variant LIMIT 1")).first() is None
        await self.drop()
        await self._exec(self.temporary.format(STAGING, _TABLE.format(extra="")))
        await self._exec(self.temporary.format(PRODUCTS, _TABLE.format(extra=", product_id BIGINT NOT NULL")))
        for name, columns in (("sku", "sku"), ("gtin", "gtin"), ("product", "product_code, row_no")):
            await self._exec(f"CREATE INDEX {STAGING}_{name} ON {STAGING} ({columns})")

    async def _analyse(self, table: str) -> None:
        """SQLite plans well without statistics; PostgreSQL overrides this (temporary tables)."""

    async def drop(self) -> None:
        for table in (STAGING, PRODUCTS):
            await self._exec(f"DROP TABLE IF EXISTS {table}")

    async def _driver(self):
        raw = await (await self.session.connection()).get_raw_connection()
        return raw.driver_connection

    async def add_rows(self, rows: list[list]) -> None:
        placeholders = ", ".join("?" for _ in _COLUMNS)
        driver = await self._driver()
        await driver.executemany(
            f"INSERT INTO {STAGING} ({', '.join(_COLUMNS)}) VALUES ({placeholders})",
            [[str(v) if isinstance(v, Decimal) else v for v in row] for row in rows],
        )

    async def check_batch(self, lo: int, hi: int) -> list[CsvError]:
        """Errors of the rows ``lo``–``hi`` found against earlier rows of the file and against the catalog."""
        found: dict[tuple[int, str], CsvError] = {}
        bounds = {"lo": lo, "hi": hi}
        # Rows cannot clash with a catalog that was empty when the import began: clashes among the file's
        # own rows are what the in-file checks find.
        checks = CHECKS[:2] if self.catalog_was_empty else CHECKS
        for column, sql, message in checks:
            for row in await self._exec(sql, bounds):
                found.setdefault((row[0], column), CsvError(row[0], column, message.format(*row)))
        for row in await self._exec(_PRODUCT_DIFFERENCES, bounds):
            pairs = zip(row[3::2], row[4::2], strict=True)
            differing = [name for name, (a, b) in zip(_PRODUCT_DIFF_FIELDS, pairs, strict=True) if a != b]
            column = (differing[0] if differing else "title").replace("category_id", "category")
            found.setdefault((row[0], column), CsvError(
                row[0], column, f"product {row[2]!r} has another {column} on its first row (row {row[1]}); "
                                f"a product's columns must agree on every row"))
        return sorted(found.values(), key=lambda e: e.row)

    async def discard_rows(self, row_numbers: list[int]) -> None:
        statement = text(f"DELETE FROM {STAGING} WHERE row_no IN :rows").bindparams(
            bindparam("rows", expanding=True))
        for start in range(0, len(row_numbers), 5000):
            await self.session.execute(statement, {"rows": row_numbers[start:start + 5000]})

    async def count(self) -> tuple[int, int]:
        row = (await self._exec(f"SELECT COUNT(*), COUNT(DISTINCT product_code) FROM {STAGING}")).one()
        return int(row[0]), int(row[1])

    def _now(self):
        return clock.now().replace(tzinfo=None).isoformat(sep=" ")

    async def merge_batch(self, header: CsvHeader, lo: int, hi: int) -> None:
        """Write the staged rows ``lo``–``hi`` into the catalog tables and the outbox."""
        params = {"now": self._now(), "lo": lo, "hi": hi}
        j = self.json
        optional = ("description", "brand", "status", "vat_rate")
        product_sets = ["title", *(c for c in optional if header.has(c))]
        product_sets += ["category_id"] if header.has("category") else []
        product_sets += ["attributes"] if header.attributes else []
        await self._exec(f"""INSERT INTO product (code, title, description, brand, category_id, attributes,
                status, vat_rate, created_at, updated_at)
            SELECT s.product_code, s.title, s.description, s.brand, s.category_id,
                {j.format("COALESCE(s.attributes, '{}')")}, s.status, s.vat_rate, {self.now}, {self.now}
            FROM ({_NEW_PRODUCTS}) s WHERE true ORDER BY s.row_no
            ON CONFLICT (code) DO UPDATE SET {_sets([*product_sets, "updated_at"])}""", params)
        await self._exec(f"DELETE FROM {PRODUCTS}")
        await self._exec(f"""INSERT INTO {PRODUCTS} ({", ".join(_COLUMNS)}, product_id)
            SELECT {", ".join(f"s.{c}" for c in _COLUMNS)}, p.id FROM ({_NEW_PRODUCTS}) s
            JOIN product p ON p.code = s.product_code""", params)
        await self._analyse(PRODUCTS)
        # products new to the catalog have no old translations or images to remove
        existing = await self._any_existing_products() if header.locales or header.has("image_urls") else False
        if header.locales:
            await self._merge_translations(remove_blank=existing)
        if header.has("image_urls"):
            if existing:
                await self._exec(f"""DELETE FROM product_media WHERE variant_id IS NULL
                    AND product_id IN (SELECT product_id FROM {PRODUCTS})""")
            await self._exec(self._media_insert())
        variant_sets = [c for c in ("gtin", "mpn", "weight_grams") if header.has(c)]
        variant_sets += ["options"] if header.options else []
        await self._exec(f"""INSERT INTO variant (product_id, sku, gtin, mpn, options, weight_grams,
                attributes, is_active, created_at, updated_at)
            SELECT p.id, s.sku, s.gtin, s.mpn, {j.format("COALESCE(s.options, '{}')")}, s.weight_grams,
                {j.format("'{}'")}, true, {self.now}, {self.now}
            FROM {STAGING} s JOIN product p ON p.code = s.product_code WHERE {_IN_BATCH} ORDER BY s.row_no
            ON CONFLICT (sku) DO UPDATE SET {_sets(variant_sets + ['updated_at'])}""", params)
        await self._outbox(params)

    async def _any_existing_products(self) -> bool:
        """Did any product of this batch exist before the import began (its images may need replacing)?"""
        if not hasattr(self, "started"):
            self.started = self._now()
        found = await self._exec(f"""SELECT 1 FROM {PRODUCTS} s JOIN product p ON p.id = s.product_id
            WHERE p.created_at < {self.now} LIMIT 1""", {"now": self.started})
        return found.first() is not None

    async def _merge_translations(self, *, remove_blank: bool) -> None:
        each = self.json_each.format("s.translations")
        title, description = self.element.format("t.value", 0), self.element.format("t.value", 1)
        if remove_blank:
            await self._exec(f"""DELETE FROM product_translation WHERE (product_id, locale) IN (
                SELECT s.product_id, t.key FROM {PRODUCTS} s {each}
                WHERE {title} = '' AND {description} = '')""")
        await self._exec(f"""INSERT INTO product_translation (product_id, locale, title, description)
            SELECT s.product_id, t.key, {title}, {description} FROM {PRODUCTS} s {each}
            WHERE ({title} <> '' OR {description} <> '')
            ON CONFLICT (product_id, locale) DO UPDATE SET title = excluded.title,
                description = excluded.description""")

    def _media_insert(self) -> str:
        return f"""INSERT INTO product_media (product_id, variant_id, url, alt, position)
            SELECT s.product_id, NULL, m.value, '', m.key
            FROM {PRODUCTS} s {self.json_array.format('s.image_urls')}"""

    async def _outbox(self, params: dict) -> None:
        """One ``catalog.product.changed`` per imported product (coalesce key ``product:<id>``, like every
        catalog event, so a consumer re-reads the product and its variants)."""
        await self._exec(f"""INSERT INTO outbox (topic, coalesce_key, payload, created_at, attempts)
            SELECT 'catalog.product.changed', 'product:' || CAST(s.product_id AS TEXT),
                {self.json_object}('product_id', s.product_id, 'code', s.product_code, 'change', 'imported'),
                {self.now}, 0
            FROM {PRODUCTS} s ORDER BY s.product_id""", params)


class _PostgresStaging(Staging):
    json = "CAST({0} AS jsonb)"
    json_each = "CROSS JOIN LATERAL jsonb_each(CAST({0} AS jsonb)) AS t"
    json_array = ("CROSS JOIN LATERAL jsonb_array_elements_text(CAST({0} AS jsonb)) "
                  "WITH ORDINALITY AS m(value, key)")
    json_object = "jsonb_build_object"
    element = "({0} ->> {1})"
    now = "CAST(:now AS timestamptz)"
    temporary = "CREATE TEMPORARY TABLE {0} {1} ON COMMIT DROP"

    def _now(self):
        return clock.now()

    staged = 0
    analyse_at = 1

    async def add_rows(self, rows: list[list]) -> None:
        driver = await self._driver()
        await driver.copy_records_to_table(STAGING, records=rows, columns=_COLUMNS)
        # Autovacuum never analyses temporary tables: without statistics the planner keeps assuming the
        # staging table is tiny and picks nested loops for the cross-row checks as it grows. Analysing each
        # time the table has grown fourfold keeps the plans right at a logarithmic cost.
        self.staged += len(rows)
        if self.staged >= self.analyse_at:
            await driver.execute(f"ANALYZE {STAGING}")
            self.analyse_at = self.staged * 4

    def _media_insert(self) -> str:
        return super()._media_insert().replace("m.key FROM", "m.key - 1 FROM")


def _sets(columns: list[str]) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns)
