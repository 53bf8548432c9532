"""``sourcing.routing_request``: the routing request placement, re-routing and waves build from the channel."""

from __future__ import annotations

import pytest

from omniretail.orders.sourcing import ChannelContext, PlaceLocation, routing_request
from omniretail.routing.model import ExclusionReason, OrderLine
from omniretail.routing.solver import solve

GDANSK = (54.35, 18.65)


def place(location_id: int, latitude: float | None, longitude: float | None) -> PlaceLocation:
    return PlaceLocation(location_id, f"L{location_id}", "store", latitude, longitude, ships_orders=True,
                         offers_pickup=True, offers_curbside=False, daily_capacity=None, is_active=True,
                         is_source=True, assigned_today=0)


def channel(*locations: PlaceLocation) -> ChannelContext:
    return ChannelContext(1, "webshop", "webshop", "PLN", "pl", True, True, {}, {}, None, locations)


def request_for(candidates: tuple[PlaceLocation, ...], *, collected: bool = False, dest=GDANSK):
    return routing_request(channel(*candidates), lines=[OrderLine(1, 7, 1)], candidates=candidates,
                           stock={c.id: {7: 5} for c in candidates}, dest=dest, collected=collected)


@pytest.mark.parametrize("strategy", ["greedy", "optimal"])
def test_a_location_without_coordinates_is_not_taken_for_the_customers_door(strategy):
    # a store in Wrocław whose coordinates were never entered, and one in Gdańsk next to the customer: the
    # unplaced store used to be measured at the destination (0 km) and won every order in the country
    gdansk, unplaced = place(1, 54.3487, 18.6453), place(2, None, None)
    explanation = solve(request_for((unplaced, gdansk)), strategy)
    assert explanation.plan.locations == (1,)
    assert explanation.reason_for(2) is ExclusionReason.CANNOT_SHIP
    assert [e.detail for e in explanation.excluded] == ["no coordinates"]


def test_where_distance_cannot_decide_an_unplaced_location_still_serves():
    unplaced = place(2, None, None)
    assert solve(request_for((unplaced,), collected=True)).plan.locations == (2,)  # the customer fetches it
    both = (place(1, None, None), unplaced)  # nobody entered coordinates: stock and parcels decide
    assert solve(request_for(both, dest=(0.0, 0.0))).plan.locations == (1,)


def test_a_location_on_the_equator_or_the_greenwich_meridian_keeps_its_coordinates():
    request = request_for((place(1, 0.0, 0.0), place(2, 54.3, 18.6)))
    assert (request.candidates[0].latitude, request.candidates[0].longitude) == (0.0, 0.0)
