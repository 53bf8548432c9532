"""``bench orders`` measures orders and pgbench in turn, round after round: how the rounds add up."""

from omniretail.bench.orders import _combined


def _round(orders: int, p50: float, p99: float, non_2xx: int = 0) -> dict:
    return {"orders_per_s": orders / 5, "p50_ms": p50, "p99_ms": p99, "orders": orders, "non_2xx": non_2xx,
            "errors": 0, "load_generator": "wrk"}


def test_orders_and_pgbench_over_all_rounds_the_median_p50_and_the_worst_p99():
    out = _combined([(_round(2000, 70.0, 150.0), 2500.0), (_round(1500, 90.0, 250.0, 1), 2000.0),
                     (_round(2500, 60.0, 140.0), 3000.0)], per_round=5)
    assert out["orders_per_s"] == 400.0  # 6,000 orders in 15 s
    assert out["pgbench_tps"] == 2500.0
    assert out["ratio_to_pgbench"] == 0.16
    assert (out["p50_ms"], out["p99_ms"], out["orders"], out["non_2xx"]) == (70.0, 250.0, 6000, 1)
    assert [r["ratio_to_pgbench"] for r in out["rounds"]] == [0.16, 0.15, 0.167]


def test_without_pgbench_there_is_no_ratio():
    out = _combined([(_round(2000, 70.0, 150.0), None)], per_round=5)
    assert out["pgbench_tps"] is None and out["ratio_to_pgbench"] is None
    assert out["rounds"] == [{"orders_per_s": 400.0, "pgbench_tps": None, "ratio_to_pgbench": None}]
