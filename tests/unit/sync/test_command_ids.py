"""Client-chosen ids: the same batch always gets the same id (a retry is recognised), anything else a new one."""

from __future__ import annotations

from omniretail.channels.connectors.allegro.commands import PRICE, QUANTITY, command_id, split
from omniretail.channels.connectors.shopify.connector import idempotency_key
from omniretail.channels.connectors.webhook.connector import delivery_id
from omniretail.channels.sync.deliveries import delivery_key


def test_an_allegro_command_id_is_a_function_of_the_batch():
    batch = [(1, 4, 0), (2, 7, 0)]
    first = command_id(10, "quantity", 5, batch)
    assert first == command_id(10, "quantity", 5, list(reversed(batch)))  # order does not matter
    assert first != command_id(10, "quantity", 6, batch)  # another value
    assert first != command_id(10, "quantity", 5, [(1, 5, 0), (2, 7, 0)])  # a newer version
    assert first != command_id(10, "quantity", 5, [(1, 4, 1), (2, 7, 0)])  # a retry after a recorded failure
    assert first != command_id(11, "quantity", 5, batch)  # another channel
    assert first != command_id(10, "price", 5, batch)


def test_a_batch_is_split_into_one_command_per_value_because_a_command_sets_one_value():
    items = [(1, 1, 0, "A", 5), (2, 1, 0, "B", 5), (3, 1, 0, "C", 0), (4, 1, 0, "A", 5)]
    batches = split(QUANTITY, 1, items, lambda q: {"changeType": "FIXED", "value": q})
    by_value = {b.modification["value"]: b for b in batches}
    assert set(by_value) == {5, 0}
    assert by_value[5].listings == {"A": [1, 4], "B": [2]}
    assert by_value[5].body()["offerCriteria"] == [{"type": "CONTAINS_OFFERS", "offers": [{"id": "A"}, {"id": "B"}]}]
    again = split(QUANTITY, 1, list(reversed(items)), lambda q: {"changeType": "FIXED", "value": q})
    assert {b.command_id for b in again} == {b.command_id for b in batches}
    prices = split(PRICE, 1, [(1, 1, 0, "A", ("9.99", "PLN"))],
                   lambda v: {"type": "FIXED_PRICE", "price": {"amount": v[0], "currency": v[1]}})
    assert prices[0].body()["modification"] == {"type": "FIXED_PRICE", "price": {"amount": "9.99", "currency": "PLN"}}


def test_a_big_batch_is_cut_at_a_thousand_offers_a_command():
    items = [(i, 1, 0, f"O{i}", 1) for i in range(2500)]
    assert [len(b.listings) for b in split(QUANTITY, 1, items, lambda q: {"value": q})] == [1000, 1000, 500]


def test_shopify_idempotency_keys_follow_the_variables():
    variables = {"input": {"quantities": [{"inventoryItemId": "i1", "quantity": 3, "changeFromQuantity": 1}]}}
    key = idempotency_key(1, variables, salt="0")
    assert key == idempotency_key(1, {"input": {"quantities": [dict(variables["input"]["quantities"][0])]}}, "0")
    other = {"input": {"quantities": [{"inventoryItemId": "i1", "quantity": 3, "changeFromQuantity": 2}]}}
    assert key != idempotency_key(1, other, salt="0")  # read back, new changeFromQuantity: a new request
    assert key != idempotency_key(1, variables, salt="1")  # after IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED


def test_webhook_delivery_ids_are_stable_per_batch_and_per_event():
    assert delivery_id(1, "listing.inventory", [(1, 2, 0)]) == delivery_id(1, "listing.inventory", [(1, 2, 0)])
    assert delivery_id(1, "listing.inventory", [(1, 2, 0)]) != delivery_id(1, "listing.price", [(1, 2, 0)])
    assert delivery_key(3, 77) == delivery_key(3, 77) != delivery_key(4, 77)
