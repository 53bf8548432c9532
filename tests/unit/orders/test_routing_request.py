"""``sourcing.routing_request``: the routing request placement, re-routing and waves build from the channel."""

from __future__ import annotations

import pytest

from omniretail.orders.sourcing import ChannelContext, Destination, PlaceLocation, routing_request
from omniretail.routing.model import ExclusionReason, OrderLine
from omniretail.routing.solver import solve

GDANSK = Destination(54.35, 18.65, "PL")


def place(location_id: int, latitude: float | None, longitude: float | None, country: str | None = "PL"
          ) -> PlaceLocation:
    return PlaceLocation(location_id, f"L{location_id}", "store", latitude, longitude, ships_orders=True,
                         offers_pickup=True, offers_curbside=False, daily_capacity=None, is_active=True,
                         is_source=True, assigned_today=0, country=country)


def channel(*locations: PlaceLocation, settings: dict | None = None) -> ChannelContext:
    return ChannelContext(1, "webshop", "webshop", "PLN", "pl", True, True, settings or {}, {}, None, locations)


def request_for(candidates: tuple[PlaceLocation, ...], *, collected: bool = False, dest=GDANSK,
                settings: dict | None = None):
    return routing_request(channel(*candidates, settings=settings), lines=[OrderLine(1, 7, 1)],
                           candidates=candidates, stock={c.id: {7: 5} for c in candidates}, dest=dest,
                           collected=collected)


ZONES = {"shipping_cost_model": {"zone_costs": {"domestic": 14.0, "DE": 35.0}}}


@pytest.mark.parametrize("strategy", ["greedy", "optimal"])
def test_a_zone_table_prices_each_parcel_by_its_lane(strategy):
    # a customer in Szczecin: the Berlin warehouse is nearer, but a parcel from Germany to Poland has no price
    berlin, warsaw = place(1, 52.52, 13.40, country="DE"), place(2, 52.23, 21.01)
    explanation = solve(request_for((berlin, warsaw), dest=Destination(53.43, 14.55, "PL"), settings=ZONES),
                        strategy)
    assert explanation.plan.locations == (2,) and explanation.cost == 14.0
    assert explanation.reason_for(1) is ExclusionReason.NO_SHIPPING_RATE
    assert explanation.excluded[0].detail == "no rate for zone 'PL'"
    # a customer in Germany: the warehouse there ships domestic, cheaper than Warsaw's parcel abroad
    request = request_for((berlin, warsaw), dest=Destination(48.14, 11.58, "DE"), settings=ZONES)
    assert [c.zone for c in request.candidates] == ["domestic", "DE"]
    explanation = solve(request, strategy)
    assert explanation.plan.locations == (1,) and explanation.cost == 14.0


def test_a_zone_tables_star_prices_the_lanes_it_does_not_list_and_a_pickup_is_not_priced():
    star = {"shipping_cost_model": {"zone_costs": {"domestic": 14.0, "*": 50.0}}}
    berlin = place(1, 52.52, 13.40, country="DE")
    request = request_for((berlin,), dest=Destination(53.43, 14.55, "PL"), settings=star)
    assert request.candidates[0].zone == "*" and solve(request).cost == 50.0
    # the customer fetches it: nothing ships, so no zone rate is needed
    request = request_for((berlin,), dest=Destination(53.43, 14.55, "PL"), settings=ZONES, collected=True)
    assert request.candidates[0].zone is None and solve(request).plan.locations == (1,)
    # the destination's country unknown: a zone table cannot price it
    request = request_for((berlin,), dest=Destination(53.43, 14.55, None), settings=star)
    assert solve(request).reason_for(1) is ExclusionReason.NO_SHIPPING_RATE


@pytest.mark.parametrize("strategy", ["greedy", "optimal"])
def test_a_location_without_coordinates_is_not_taken_for_the_customers_door(strategy):
    # a store in Wrocław whose coordinates were never entered, and one in Gdańsk next to the customer: the
    # unplaced store used to be measured at the destination (0 km) and won every order in the country
    gdansk, unplaced = place(1, 54.3487, 18.6453), place(2, None, None)
    explanation = solve(request_for((unplaced, gdansk)), strategy)
    assert explanation.plan.locations == (1,)
    assert explanation.reason_for(2) is ExclusionReason.NO_COORDINATES
    assert [e.detail for e in explanation.excluded] == ["no coordinates"]


def test_where_distance_cannot_decide_an_unplaced_location_still_serves():
    unplaced = place(2, None, None)
    assert solve(request_for((unplaced,), collected=True)).plan.locations == (2,)  # the customer fetches it
    both = (place(1, None, None), unplaced)  # nobody entered coordinates: stock and parcels decide
    assert solve(request_for(both, dest=Destination(0.0, 0.0, "PL"))).plan.locations == (1,)


def test_a_location_on_the_equator_or_the_greenwich_meridian_keeps_its_coordinates():
    request = request_for((place(1, 0.0, 0.0), place(2, 54.3, 18.6)))
    assert (request.candidates[0].latitude, request.candidates[0].longitude) == (0.0, 0.0)
