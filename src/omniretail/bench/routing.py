"""``omniretail bench routing``: source N generated orders over 50 Polish locations, greedy against optimal.

Each order (1–10 lines, seeded) is planned on its own against the same stock, once per strategy; then all N
are planned as one wave competing for that stock and the stores' fulfilment capacity (greedy first come,
first served, against the joint MILP). No database: the solver is pure, this measures the solver.

``total_cost`` is what the parcels cost (parcel + distance + split penalty), without the penalty for units
left unshipped; ``unfilled_units`` is reported next to it.
"""

from __future__ import annotations

import random
import time
from dataclasses import replace
from typing import Any

from omniretail.routing.model import (
    Candidate,
    OrderLine,
    RoutingPolicy,
    RoutingRequest,
    ShippingCostModel,
)
from omniretail.routing.solver import solve, solve_wave

from .registry import scenario
from .support import percentile

DEFAULT_SCALE = 1_000
WAVE_SIZE = 50  # orders released to the stores and warehouses together
SEED = 20_240_601
VARIANTS = 300
COSTS = ShippingCostModel(parcel_base=11.0, per_km=0.015, per_unit_km=0.002, split_penalty=6.0)

# city, latitude, longitude, population in thousands
CITIES = (
    ("Warszawa", 52.2297, 21.0122, 1860), ("Kraków", 50.0647, 19.9450, 800),
    ("Wrocław", 51.1079, 17.0385, 670), ("Łódź", 51.7592, 19.4560, 660),
    ("Poznań", 52.4064, 16.9252, 540), ("Gdańsk", 54.3520, 18.6466, 490),
    ("Szczecin", 53.4285, 14.5528, 390), ("Bydgoszcz", 53.1235, 18.0084, 330),
    ("Lublin", 51.2465, 22.5684, 330), ("Białystok", 53.1325, 23.1688, 290),
    ("Katowice", 50.2649, 19.0238, 280), ("Gdynia", 54.5189, 18.5305, 240),
    ("Częstochowa", 50.8118, 19.1203, 210), ("Radom", 51.4027, 21.1471, 200),
    ("Rzeszów", 50.0412, 21.9991, 200), ("Toruń", 53.0138, 18.5984, 200),
    ("Kielce", 50.8661, 20.6286, 190), ("Gliwice", 50.2945, 18.6714, 180),
    ("Olsztyn", 53.7784, 20.4801, 170), ("Bielsko-Biała", 49.8224, 19.0584, 170),
    ("Zielona Góra", 51.9356, 15.5062, 140), ("Opole", 50.6751, 17.9213, 130),
    ("Płock", 52.5463, 19.7065, 120), ("Elbląg", 54.1522, 19.4088, 120),
    ("Gorzów Wielkopolski", 52.7368, 15.2288, 120), ("Koszalin", 54.1944, 16.1722, 105),
    ("Kalisz", 51.7611, 18.0910, 100), ("Legnica", 51.2070, 16.1619, 100),
    ("Tarnów", 50.0121, 20.9858, 105), ("Słupsk", 54.4641, 17.0287, 90),
    ("Nowy Sącz", 49.6218, 20.6971, 85), ("Zamość", 50.7231, 23.2520, 60),
    ("Suwałki", 54.1118, 22.9309, 70),
)
WAREHOUSES = (("Stryków DC", 51.9000, 19.6000), ("Gądki DC", 52.3100, 17.0500),
              ("Bielany Wrocławskie DC", 51.0400, 16.9600), ("Błonie DC", 52.2000, 20.6200))


def popularity() -> list[float]:
    """Share of order lines per variant: a few best sellers, a long tail (Zipf-like)."""
    weights = [1 / (v + 1) ** 0.8 for v in range(VARIANTS)]
    return [w / sum(weights) for w in weights]


def build_locations(rng: random.Random, orders: int) -> list[dict[str, Any]]:
    """4 distribution centres carrying about half the range, 46 stores (one per city, two in the largest)
    carrying a third of it with fewer units and 1 of each kept on the shelf; a few stores full or not
    shipping. Units follow the demand N orders will bring, so a wave is short in places, not everywhere."""
    expected = [orders * 5 * 1.4 * share for share in popularity()]  # units per variant the orders will ask
    locations = []
    for k, (name, lat, lon) in enumerate(WAREHOUSES):
        stock = {v: rng.randint(0, max(4, round(expected[v]))) for v in range(VARIANTS)
                 if rng.random() < 0.55}
        locations.append({"location_id": k + 1, "code": name, "kind": "warehouse", "latitude": lat,
                          "longitude": lon, "capacity_left": None, "can_ship": True, "store_protection": 0,
                          "stock": stock})
    cities = sorted(CITIES, key=lambda c: -c[3])
    stores = cities + cities[: 50 - len(WAREHOUSES) - len(cities)]
    for k, (city, lat, lon, _) in enumerate(stores):
        stock = {v: rng.randint(0, max(3, round(expected[v] * 0.15))) for v in range(VARIANTS)
                 if rng.random() < 0.35}
        capacity = 0 if rng.random() < 0.06 else max(8, orders // 20 + rng.randint(-4, 4))
        locations.append({"location_id": len(WAREHOUSES) + k + 1, "code": f"{city} store {k}",
                          "kind": "store", "latitude": lat + rng.uniform(-0.03, 0.03),
                          "longitude": lon + rng.uniform(-0.04, 0.04),
                          "capacity_left": capacity, "can_ship": rng.random() > 0.08, "store_protection": 1,
                          "stock": stock})
    return locations


def build_orders(rng: random.Random, count: int, locations: list[dict[str, Any]]) -> list[RoutingRequest]:
    """Orders from customers spread like the population; popular items sell more (Zipf-like); one order in
    five comes from a marketplace channel that may only source from the warehouses and the larger stores;
    half the channels let a line ship from two locations."""
    weights = popularity()
    city_weights = [c[3] for c in CITIES]
    big_store_ids = {loc["location_id"] for loc in locations
                     if loc["kind"] == "store" and loc["location_id"] % 3}
    requests = []
    for n in range(count):
        city = rng.choices(CITIES, weights=city_weights)[0]
        variants: list[int] = []
        for _ in range(rng.randint(1, 10)):
            v = rng.choices(range(VARIANTS), weights=weights)[0]
            if v not in variants:
                variants.append(v)
        lines = tuple(OrderLine(i + 1, v, rng.choices((1, 2, 3), weights=(70, 20, 10))[0])
                      for i, v in enumerate(variants))
        marketplace = rng.random() < 0.2
        candidates = tuple(Candidate(channel_allowed=not marketplace or loc["kind"] == "warehouse"
                                     or loc["location_id"] in big_store_ids, **loc) for loc in locations)
        requests.append(RoutingRequest(
            lines=lines, destination_latitude=city[1] + rng.uniform(-0.15, 0.15),
            destination_longitude=city[2] + rng.uniform(-0.2, 0.2), candidates=candidates, costs=COSTS,
            policy=RoutingPolicy(allow_split=n % 2 == 0), order_id=n + 1))
    return requests


def _single_orders(requests: list[RoutingRequest], strategy: str) -> dict[str, Any]:
    """Each order alone against the same stock: cost, parcels, and the time of a full explained decision
    (plan and runner-up) and of the plan alone."""
    explained, plan_only, shipping, parcels, unfilled = [], [], 0.0, 0, 0
    for request in requests:
        started = time.perf_counter()
        explanation = solve(request, strategy)
        explained.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        solve(request, strategy, runner_up=False)
        plan_only.append((time.perf_counter() - started) * 1000)
        shipping += explanation.plan.cost.shipping
        parcels += explanation.plan.parcels
        unfilled += explanation.plan.unfilled_units
    explained.sort()
    plan_only.sort()
    return {"total_cost": round(shipping, 2), "parcels": parcels, "unfilled_units": unfilled,
            "p50_ms": round(percentile(explained, 50), 3), "p95_ms": round(percentile(explained, 95), 3),
            "plan_only_p50_ms": round(percentile(plan_only, 50), 3),
            "plan_only_p95_ms": round(percentile(plan_only, 95), 3)}


def _in_waves(requests: list[RoutingRequest], strategy: str, wave_size: int) -> dict[str, Any]:
    """Release the orders in waves of ``wave_size``, in arrival order; each wave is planned as one on the
    stock and capacity the earlier waves left."""
    first = requests[0].candidates if requests else ()
    stock = {c.location_id: dict(c.stock) for c in first}
    capacity = {c.location_id: c.capacity_left for c in first}
    shipping, parcels, unfilled, replanned, seconds = 0.0, 0, 0, 0, 0.0
    for begin in range(0, len(requests), wave_size):
        wave = [replace(r, candidates=tuple(replace(c, stock=stock[c.location_id],
                                                    capacity_left=capacity[c.location_id])
                                            for c in r.candidates))
                for r in requests[begin:begin + wave_size]]
        planned = solve_wave(wave, strategy)
        seconds += planned.solve_ms / 1000
        for request, plan in zip(wave, planned.plans):
            variant_of = {ln.line_id: ln.variant_id for ln in request.lines}
            for a in plan.assignments:
                stock[a.location_id][variant_of[a.line_id]] -= a.quantity
            for location_id in plan.locations:
                if capacity[location_id] is not None:
                    capacity[location_id] -= 1
        shipping += planned.shipping_cost
        parcels += planned.parcels
        unfilled += planned.unfilled_units
        replanned += planned.replanned
    return {"orders": len(requests), "waves": -(-len(requests) // wave_size), "wave_size": wave_size,
            "total_cost": round(shipping, 2), "parcels": parcels, "unfilled_units": unfilled,
            "replanned_jointly": replanned, "seconds": round(seconds, 3)}


def _saving(greedy: dict[str, Any], optimal: dict[str, Any]) -> float:
    return round(100 * (1 - optimal["total_cost"] / greedy["total_cost"]), 2) if greedy["total_cost"] else 0.0


@scenario("routing", "Source N generated orders (1–10 lines) over 50 locations: greedy vs MILP, and in waves")
def run(scale: int | None = None, database_url: str | None = None) -> dict[str, Any]:
    rng = random.Random(SEED)
    count = scale or DEFAULT_SCALE
    requests = build_orders(rng, count, build_locations(rng, count))
    result: dict[str, Any] = {"orders": len(requests),
                              "locations": len(requests[0].candidates) if requests else 0}
    for strategy in ("greedy", "optimal"):
        result[strategy] = _single_orders(requests, strategy)
    result["optimal_saving_percent"] = _saving(result["greedy"], result["optimal"])
    first_come = _in_waves(requests, "greedy", WAVE_SIZE)
    result["batch"] = _in_waves(requests, "optimal", WAVE_SIZE)
    result["batch"]["greedy"] = {k: first_come[k]
                                 for k in ("total_cost", "parcels", "unfilled_units", "seconds")}
    result["batch"]["saving_percent"] = _saving(first_come, result["batch"])
    return result
