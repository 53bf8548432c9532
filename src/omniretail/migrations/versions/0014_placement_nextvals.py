"""orders: ids for a placement from a PL/pgSQL loop (``nextvals``) instead of one function scan per sequence

The placement read (``order_placement_read``, migration 0013) took the ids of the order, its lines, reservations,
fulfilment orders and timeline entries as ``ARRAY(SELECT nextval(…) FROM generate_series(1, n))``: five
function scans started on every call, ≈ 110 µs of PostgreSQL CPU on the measuring machine against ≈ 60 µs with
``nextvals`` (a loop of simple expressions, which PL/pgSQL evaluates without starting the executor). The read's
body is replaced with the statement the code now builds (``orders/placement_pg.READ_STATEMENT``; the test
``tests/integration/orders/test_placement_read_function.py`` compares them).

Revision ID: 0014_placement_nextvals
Revises: 0013_placement_read_function
Create Date: 2026-12-06 06:40:00
"""
from __future__ import annotations

from alembic import op

revision = "0014_placement_nextvals"
down_revision = "0013_placement_read_function"
branch_labels = None
depends_on = None

# as in 0013: the parameters in the order of placement_pg.READ_PARAMETERS, and the result columns
PARAMETERS = """
    p_channel_id bigint, p_key text, p_email text, p_phone text, p_locations bigint[], p_n_0 integer,
    p_n_1 integer, p_n_2 integer, p_n_3 integer, p_n_4 integer, p_currency text, p_skus text[]"""
COLUMNS = """
    variant_id bigint, sku varchar, is_active boolean, vat_rate numeric, status varchar, list_id bigint,
    list_code varchar, priority integer, list_currency varchar, list_channel_id bigint, list_active boolean,
    list_from timestamptz, list_to timestamptz, list_gross boolean, price_id bigint, amount_minor bigint,
    price_from timestamptz, price_to timestamptz, stock jsonb, customers jsonb, customer_ids bigint[],
    ids_0 bigint[], ids_1 bigint[], ids_2 bigint[], ids_3 bigint[], ids_4 bigint[]"""

NEXTVALS = """CREATE OR REPLACE FUNCTION nextvals(seq regclass, n integer) RETURNS bigint[]
LANGUAGE plpgsql VOLATILE STRICT
AS $fn$
DECLARE
  ids bigint[] := '{}';
BEGIN
  FOR i IN 1..n LOOP
    ids := ids || nextval(seq);
  END LOOP;
  RETURN ids;
END
$fn$"""

READ_SQL = """WITH m AS (
SELECT ci.customer_id AS cid, ci.id AS iid, 0 AS rank, c.email, c.phone
  FROM customer_identity ci JOIN customer c ON c.id = ci.customer_id
 WHERE ci.channel_id = $1 AND ci.external_id = $2
UNION ALL
SELECT c.id, NULL, 1, c.email, c.phone FROM customer c WHERE c.email = $3 AND c.merged_into_id IS NULL
UNION ALL
SELECT c.id, NULL, 2, c.email, c.phone FROM customer c WHERE c.phone = $4 AND c.merged_into_id IS NULL)
SELECT q.*,
  (SELECT jsonb_object_agg(s.location_id, s.on_hand - s.reserved - s.safety_stock) FROM stock_level s
    WHERE s.variant_id = q.variant_id AND s.location_id = ANY($5)) AS stock,
  (SELECT jsonb_agg(jsonb_build_array(cid, iid, rank, email, phone)) FROM m) AS customers,
  (SELECT ARRAY[CASE WHEN CAST($2 AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m)
                     THEN nextval('customer_id_seq') END,
                CASE WHEN CAST($2 AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m WHERE rank = 0)
                     THEN nextval('customer_identity_id_seq') END]) AS customer_ids,
  (SELECT nextvals('sales_order_id_seq', $6)) AS ids_0, (SELECT nextvals('order_line_id_seq', $7)) AS ids_1, (SELECT nextvals('reservation_id_seq', $8)) AS ids_2, (SELECT nextvals('fulfilment_order_id_seq', $9)) AS ids_3, (SELECT nextvals('order_event_id_seq', $10)) AS ids_4
FROM (
SELECT v.id AS variant_id, v.sku, v.is_active, p.vat_rate, p.status,
       pl.id AS list_id, pl.code AS list_code, pl.priority, pl.currency AS list_currency,
       pl.channel_id AS list_channel_id, pl.is_active AS list_active, pl.valid_from AS list_from,
       pl.valid_to AS list_to, pl.prices_include_tax AS list_gross,
       pr.id AS price_id, pr.amount_minor, pr.valid_from AS price_from, pr.valid_to AS price_to
FROM variant v JOIN product p ON p.id = v.product_id
LEFT JOIN price pr ON pr.variant_id = v.id AND pr.price_list_id IN (
    SELECT id FROM price_list WHERE channel_id = $1 OR (channel_id IS NULL AND currency = $11))
LEFT JOIN price_list pl ON pl.id = pr.price_list_id
WHERE v.sku = ANY($12)) q"""


def _read_function(read_sql: str) -> str:
    return f"""CREATE OR REPLACE FUNCTION order_placement_read({PARAMETERS})
RETURNS TABLE ({COLUMNS})
LANGUAGE plpgsql VOLATILE
SET plan_cache_mode = force_generic_plan
AS $fn$
#variable_conflict use_column
BEGIN
RETURN QUERY {read_sql};
END
$fn$"""


# 0013's body, put back by the downgrade
READ_SQL_0013 = """WITH m AS (
SELECT ci.customer_id AS cid, ci.id AS iid, 0 AS rank, c.email, c.phone
  FROM customer_identity ci JOIN customer c ON c.id = ci.customer_id
 WHERE ci.channel_id = $1 AND ci.external_id = $2
UNION ALL
SELECT c.id, NULL, 1, c.email, c.phone FROM customer c WHERE c.email = $3 AND c.merged_into_id IS NULL
UNION ALL
SELECT c.id, NULL, 2, c.email, c.phone FROM customer c WHERE c.phone = $4 AND c.merged_into_id IS NULL)
SELECT q.*,
  (SELECT jsonb_object_agg(s.location_id, s.on_hand - s.reserved - s.safety_stock) FROM stock_level s
    WHERE s.variant_id = q.variant_id AND s.location_id = ANY($5)) AS stock,
  (SELECT jsonb_agg(jsonb_build_array(cid, iid, rank, email, phone)) FROM m) AS customers,
  (SELECT ARRAY[CASE WHEN CAST($2 AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m)
                     THEN nextval('customer_id_seq') END,
                CASE WHEN CAST($2 AS text) IS NOT NULL AND NOT EXISTS (SELECT 1 FROM m WHERE rank = 0)
                     THEN nextval('customer_identity_id_seq') END]) AS customer_ids,
  ARRAY(SELECT nextval('sales_order_id_seq') FROM generate_series(1, $6)) AS ids_0, ARRAY(SELECT nextval('order_line_id_seq') FROM generate_series(1, $7)) AS ids_1, ARRAY(SELECT nextval('reservation_id_seq') FROM generate_series(1, $8)) AS ids_2, ARRAY(SELECT nextval('fulfilment_order_id_seq') FROM generate_series(1, $9)) AS ids_3, ARRAY(SELECT nextval('order_event_id_seq') FROM generate_series(1, $10)) AS ids_4
FROM (
SELECT v.id AS variant_id, v.sku, v.is_active, p.vat_rate, p.status,
       pl.id AS list_id, pl.code AS list_code, pl.priority, pl.currency AS list_currency,
       pl.channel_id AS list_channel_id, pl.is_active AS list_active, pl.valid_from AS list_from,
       pl.valid_to AS list_to, pl.prices_include_tax AS list_gross,
       pr.id AS price_id, pr.amount_minor, pr.valid_from AS price_from, pr.valid_to AS price_to
FROM variant v JOIN product p ON p.id = v.product_id
LEFT JOIN price pr ON pr.variant_id = v.id AND pr.price_list_id IN (
    SELECT id FROM price_list WHERE channel_id = $1 OR (channel_id IS NULL AND currency = $11))
LEFT JOIN price_list pl ON pl.id = pr.price_list_id
WHERE v.sku = ANY($12)) q"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(NEXTVALS)
    op.execute(_read_function(READ_SQL))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_read_function(READ_SQL_0013))
    op.execute("DROP FUNCTION IF EXISTS nextvals(regclass, integer)")
