"""The set-based half of the CSV import: a staging table, the checks across rows, and the merge.

Valid rows are streamed into a temporary table (``COPY`` on PostgreSQL through the asyncpg connection,
``executemany`` on SQLite), so Python memory stays flat whatever the file size. The checks that need every
row or the database (duplicates in the file, GTINs and SKUs owned by other records) and the merge into
``product``, ``product_translation``, ``product_media``, ``variant`` and ``outbox`` are a handful of
``INSERT … SELECT … ON CONFLICT`` statements run by the database.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from omniretail.platform import clock

from .csv_format import STAGED_FIELDS, CsvError, CsvHeader

STAGING = "catalog_import_row"
PRODUCTS = "catalog_import_product"
_COLUMNS = [f if f != "category" else "category_id" for f in STAGED_FIELDS]
_PRODUCT_DIFF_FIELDS = ("title", "description", "brand", "category_id", "status", "vat_rate", "attributes",
                        "translations", "image_urls")
_DDL = """CREATE TEMPORARY TABLE {name} (
    row_no INTEGER PRIMARY KEY, product_code TEXT NOT NULL, title TEXT NOT NULL, description TEXT NOT NULL,
    brand TEXT NOT NULL, category_id BIGINT, status TEXT NOT NULL, vat_rate NUMERIC(5, 4) NOT NULL,
    attributes TEXT, translations TEXT, image_urls TEXT, sku TEXT NOT NULL, gtin TEXT, mpn TEXT NOT NULL,
    weight_grams INTEGER, options TEXT, fingerprint BIGINT NOT NULL){suffix}"""
_FIRST_ROWS = f"""(SELECT s.* FROM {STAGING} s JOIN (SELECT product_code, MIN(row_no) AS first_row
    FROM {STAGING} GROUP BY product_code) g ON s.row_no = g.first_row)"""

CHECKS = (
    ("sku", f"""SELECT s.row_no, s.sku, f.first_row FROM {STAGING} s
        JOIN (SELECT sku, MIN(row_no) AS first_row FROM {STAGING} GROUP BY sku HAVING COUNT(*) > 1) f
        ON f.sku = s.sku WHERE s.row_no > f.first_row""",
     "duplicate SKU {1!r} in the file (first on row {2})"),
    ("gtin", f"""SELECT s.row_no, s.gtin, f.row_no, f.sku FROM {STAGING} s
        JOIN (SELECT gtin, MIN(row_no) AS first_row FROM {STAGING} WHERE gtin IS NOT NULL GROUP BY gtin
              HAVING COUNT(*) > 1) g ON g.gtin = s.gtin
        JOIN {STAGING} f ON f.row_no = g.first_row WHERE s.row_no > f.row_no AND s.sku <> f.sku""",
     "GTIN {1} is used twice in the file (row {2} gives it to SKU {3!r})"),
    ("gtin", f"""SELECT s.row_no, s.gtin, v.sku FROM {STAGING} s JOIN variant v ON v.gtin = s.gtin
        WHERE v.sku <> s.sku""",
     "GTIN {1} already belongs to SKU {2!r} in the catalog"),
    ("sku", f"""SELECT s.row_no, s.sku, p.code FROM {STAGING} s JOIN variant v ON v.sku = s.sku
        JOIN product p ON p.id = v.product_id WHERE p.code <> s.product_code""",
     "SKU {1!r} already belongs to product {2!r} in the catalog"),
)


class Staging:
    """One import's staging table on the session's connection (PostgreSQL or SQLite flavour)."""

    json = "{0}"
    json_each = ", json_each({0}) AS t"
    json_array = ", json_each({0}) AS m"  # m.value: the element, m.key: its index
    json_object = "json_object"
    element = "json_extract({0}, '$[{1}]')"
    now = ":now"
    suffix = ""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    def for_session(session: AsyncSession) -> Staging:
        return _PostgresStaging(session) if session.get_bind().dialect.name == "postgresql" else Staging(session)

    async def _exec(self, sql: str, params: dict | None = None):
        return await self.session.execute(text(sql), params or {})

    async def create(self) -> None:
        await self.drop()
        await self._exec(_DDL.format(name=STAGING, suffix=self.suffix))

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

    async def analyse(self) -> None:
        for column in ("sku", "gtin", "product_code"):
            await self._exec(f"CREATE INDEX IF NOT EXISTS {STAGING}_{column} ON {STAGING} ({column})")

    async def cross_row_errors(self) -> list[CsvError]:
        """Duplicates in the file, GTINs/SKUs owned by other records, products whose rows disagree."""
        errors: list[CsvError] = []
        for column, sql, message in CHECKS:
            for row in await self._exec(sql):
                errors.append(CsvError(row[0], column, message.format(*row)))
        errors.extend(await self._product_differences())
        return errors

    async def _product_differences(self) -> list[CsvError]:
        cols = ", ".join(f"s.{c}, f.{c}" for c in _PRODUCT_DIFF_FIELDS)
        rows = await self._exec(f"""SELECT s.row_no, f.row_no, s.product_code, {cols} FROM {STAGING} s
            JOIN (SELECT product_code, MIN(row_no) AS first_row FROM {STAGING} GROUP BY product_code
                  HAVING COUNT(DISTINCT fingerprint) > 1) g ON g.product_code = s.product_code
            JOIN {STAGING} f ON f.row_no = g.first_row WHERE s.fingerprint <> f.fingerprint""")
        errors = []
        for row in rows:
            pairs = zip(row[3::2], row[4::2], strict=True)
            differing = [name for name, (a, b) in zip(_PRODUCT_DIFF_FIELDS, pairs, strict=True) if a != b]
            column = (differing[0] if differing else "title").replace("category_id", "category")
            errors.append(CsvError(row[0], column, f"product {row[2]!r} has other {column} on its first row "
                                                   f"(row {row[1]}); a product's columns must agree on every row"))
        return errors

    async def discard_rows(self, row_numbers: list[int]) -> None:
        statement = text(f"DELETE FROM {STAGING} WHERE row_no IN :rows").bindparams(bindparam("rows", expanding=True))
        for start in range(0, len(row_numbers), 5000):
            await self.session.execute(statement, {"rows": row_numbers[start:start + 5000]})

    async def count(self) -> tuple[int, int]:
        row = (await self._exec(f"SELECT COUNT(*), COUNT(DISTINCT product_code) FROM {STAGING}")).one()
        return int(row[0]), int(row[1])

    def _now(self):
        return clock.now().replace(tzinfo=None).isoformat(sep=" ")

    async def merge(self, header: CsvHeader, *, variant_events: bool = True) -> None:
        """Write the staged rows into the catalog tables and the outbox."""
        params = {"now": self._now()}
        j = self.json
        product_sets = ["title"] + [c for c in ("description", "brand", "status", "vat_rate") if header.has(c)]
        product_sets += ["category_id"] if header.has("category") else []
        product_sets += ["attributes"] if header.attributes else []
        await self._exec(f"""INSERT INTO product (code, title, description, brand, category_id, attributes, status,
                vat_rate, created_at, updated_at)
            SELECT s.product_code, s.title, s.description, s.brand, s.category_id,
                {j.format("COALESCE(s.attributes, '{}')")}, s.status, s.vat_rate, {self.now}, {self.now}
            FROM {_FIRST_ROWS} s WHERE true ORDER BY s.row_no
            ON CONFLICT (code) DO UPDATE SET {_sets(product_sets)}, updated_at = excluded.updated_at""", params)
        await self._exec(f"""CREATE TEMPORARY TABLE {PRODUCTS} AS SELECT p.id AS product_id, s.*
            FROM {_FIRST_ROWS} s JOIN product p ON p.code = s.product_code""")
        if header.locales:
            await self._merge_translations()
        if header.has("image_urls"):
            await self._exec(f"""DELETE FROM product_media WHERE variant_id IS NULL
                AND product_id IN (SELECT product_id FROM {PRODUCTS})""")
            await self._exec(self._media_insert())
        variant_sets = [c for c in ("gtin", "mpn", "weight_grams") if header.has(c)]
        variant_sets += ["options"] if header.options else []
        await self._exec(f"""INSERT INTO variant (product_id, sku, gtin, mpn, options, weight_grams, attributes,
                is_active, created_at, updated_at)
            SELECT p.id, s.sku, s.gtin, s.mpn, {j.format("COALESCE(s.options, '{}')")}, s.weight_grams,
                {j.format("'{}'")}, true, {self.now}, {self.now}
            FROM {STAGING} s JOIN product p ON p.code = s.product_code WHERE true ORDER BY s.row_no
            ON CONFLICT (sku) DO UPDATE SET {_sets(variant_sets + ['updated_at'])}""", params)
        await self._outbox(params, variant_events=variant_events)

    async def _merge_translations(self) -> None:
        each = self.json_each.format("s.translations")
        title, description = self.element.format("t.value", 0), self.element.format("t.value", 1)
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
            SELECT s.product_id, NULL, m.value, '', m.key FROM {PRODUCTS} s {self.json_array.format('s.image_urls')}"""

    async def _outbox(self, params: dict, *, variant_events: bool) -> None:
        obj = self.json_object
        await self._exec(f"""INSERT INTO outbox (topic, coalesce_key, payload, created_at, attempts)
            SELECT 'catalog.product.changed', 'product:' || CAST(s.product_id AS TEXT),
                {obj}('product_id', s.product_id, 'code', s.product_code, 'change', 'imported'), {self.now}, 0
            FROM {PRODUCTS} s""", params)
        if variant_events:
            await self._exec(f"""INSERT INTO outbox (topic, coalesce_key, payload, created_at, attempts)
                SELECT 'catalog.variant.changed', 'product:' || CAST(v.product_id AS TEXT),
                    {obj}('variant_id', v.id, 'product_id', v.product_id, 'sku', v.sku, 'change', 'imported'),
                    {self.now}, 0
                FROM {STAGING} s JOIN variant v ON v.sku = s.sku""", params)


class _PostgresStaging(Staging):
    json = "CAST({0} AS jsonb)"
    json_each = "CROSS JOIN LATERAL jsonb_each(CAST({0} AS jsonb)) AS t"
    json_array = "CROSS JOIN LATERAL jsonb_array_elements_text(CAST({0} AS jsonb)) WITH ORDINALITY AS m(value, key)"
    json_object = "jsonb_build_object"
    element = "({0} ->> {1})"
    now = "CAST(:now AS timestamptz)"
    suffix = " ON COMMIT DROP"

    def _now(self):
        return clock.now()

    async def add_rows(self, rows: list[list]) -> None:
        driver = await self._driver()
        await driver.copy_records_to_table(STAGING, records=rows, columns=_COLUMNS)

    async def analyse(self) -> None:
        await self._exec(f"ANALYZE {STAGING}")

    def _media_insert(self) -> str:
        return super()._media_insert().replace("m.key FROM", "m.key - 1 FROM")


def _sets(columns: list[str]) -> str:
    return ", ".join(f"{c} = excluded.{c}" for c in columns)
