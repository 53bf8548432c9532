"""Pure rules of the sync engine and the connectors: what is sent for a listing, back-off, signatures, mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from omniretail.channels.connectors.allegro.orders import checkout_form_to_order, revision_of, waybill_request
from omniretail.channels.connectors.http import retry_after
from omniretail.channels.connectors.shopify.client import item_index
from omniretail.channels.connectors.shopify.orders import order_to_import
from omniretail.channels.connectors.webhook.signing import parse, signature, signed_headers, verify
from omniretail.channels.sync.claims import Claimed
from omniretail.channels.sync.engine import SyncEngine
from omniretail.platform.backoff import backoff_delay
from tests.channel_servers.allegro import checkout_form


def _claimed(**kw) -> Claimed:
    base = {"id": 1, "channel_id": 1, "variant_id": 1, "sku": "S", "external": {}, "desired_quantity": 5,
            "desired_price_minor": 100, "desired_content_hash": "h", "desired_published": True, "desired_version": 3,
            "desired_at": None, "acked_quantity": 5, "acked_price_minor": 100, "acked_content_hash": "h",
            "acked_published": True, "acked_version": 2, "attempts": 0, "lease_until": datetime.now(UTC)}
    return Claimed(**{**base, **kw})


def test_only_what_differs_from_the_acknowledged_state_is_sent():
    parts = SyncEngine._parts
    assert parts(None, None, _claimed()) == []  # a version whose values came back to what was sent: nothing
    assert parts(None, None, _claimed(desired_quantity=4)) == ["inventory"]
    assert parts(None, None, _claimed(desired_price_minor=90, desired_published=False)) == ["price", "listing"]
    assert parts(None, None, _claimed(desired_price_minor=None, acked_price_minor=None)) == []  # no price: not sent


def test_back_off_grows_exponentially_with_jitter_and_a_cap():
    delays = [backoff_delay(n, base=2.0, cap=60.0).total_seconds() for n in range(1, 10)]
    for n, delay in enumerate(delays, start=1):
        nominal = min(60.0, 2.0 * 2 ** (n - 1))
        assert nominal / 2 <= delay <= nominal
    assert max(delays) <= 60.0


def test_retry_after_is_read_as_seconds_or_as_an_http_date():
    import httpx

    assert retry_after(httpx.Response(429, headers={"Retry-After": "7"})) == 7.0
    later = (datetime.now(UTC) + timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= retry_after(httpx.Response(429, headers={"Retry-After": later})) <= 31
    assert retry_after(httpx.Response(429), default=3.0) == 3.0


def test_signatures_verify_only_the_exact_body_within_the_tolerance():
    headers = signed_headers("s3cret", body=b'{"a":1}', delivery_id="d1", topic="t", now=1_000)
    header = headers["X-Omniretail-Signature"]
    assert parse(header) == (1_000, [signature("s3cret", 1_000, b'{"a":1}')])
    assert verify("s3cret", body=b'{"a":1}', header=header, now=1_100)
    assert not verify("s3cret", body=b'{"a":2}', header=header, now=1_100)
    assert not verify("other", body=b'{"a":1}', header=header, now=1_100)
    assert not verify("s3cret", body=b'{"a":1}', header=header, now=1_400)
    assert not verify("s3cret", body=b'{"a":1}', header="garbage", now=1_000)


def test_a_checkout_form_becomes_an_order_import_with_updated_at_as_its_revision():
    at = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    form = checkout_form("F1", offer_id="O1", quantity=2, price="9.50", status="READY_FOR_PROCESSING",
                         updated_at=at, sku="SKU-1")
    order = checkout_form_to_order(7, form)
    assert order.error is None and order.external_id == "F1"
    data = order.data
    assert data["revision"] == revision_of(form) == int(at.timestamp() * 1000)
    assert data["payment_status"] == "paid" and data["status"] == "placed"
    assert data["lines"] == [{"sku": "SKU-1", "offer_id": "O1", "quantity": 2, "unit_price": "9.50"}]
    assert data["delivery"]["method"] == "ship" and data["delivery"]["address"]["city"] == "Poznań"
    assert checkout_form_to_order(7, {**form, "status": "BOUGHT"}).data["payment_status"] == "pending"
    assert checkout_form_to_order(7, {**form, "status": "CANCELLED"}).data["status"] == "cancelled"
    assert waybill_request(form, carrier="InPost", tracking_number="X1")["carrierId"] == "INPOST"
    assert waybill_request(form, carrier="Kurier Janek", tracking_number="X1") | {} == {
        "waybill": "X1", "lineItems": [{"id": "F1-li1"}], "carrierId": "OTHER", "carrierName": "Kurier Janek"}


def test_shopify_orders_and_user_error_paths():
    node = {"id": "gid://shopify/Order/1", "updatedAt": "2026-11-20T10:00:00Z", "cancelledAt": None,
            "displayFinancialStatus": "AUTHORIZED", "lineItems": {"nodes": [
                {"sku": "S1", "quantity": 1, "originalUnitPriceSet": {"shopMoney": {"amount": "5.0"}}}]}}
    data = order_to_import(3, node).data
    assert data["payment_status"] == "authorized" and data["revision"] == int(datetime(2026, 11, 20, 10, 0, tzinfo=UTC).timestamp() * 1000)
    assert "tax_rate" not in data["lines"][0]  # Shopify gave no tax line: the product's rate applies
    taxed = {**node, "lineItems": {"nodes": [{**node["lineItems"]["nodes"][0], "taxLines": [{"rate": 0.19}]},
                                             {"sku": "S2", "quantity": 1, "taxLines": [{"rate": 0.05}, {"rate": 0.07}],
                                              "originalUnitPriceSet": {"shopMoney": {"amount": "2.0"}}}]}}
    assert [x["tax_rate"] for x in order_to_import(3, taxed).data["lines"]] == ["0.1900", "0.1200"]
    assert item_index({"field": ["input", "quantities", "2", "changeFromQuantity"]}, "quantities") == 2
    assert item_index({"field": None}, "quantities") is None
