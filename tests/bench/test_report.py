"""The report: given recorded cells, when ratios are taken, then budgraph's req/s is divided by the
others' at c8, and a cell answered mostly with errors gives no ratio (its rate is of error answers)."""

from __future__ import annotations

from typing import Any

from bench import report


def _cell(server: str, rps: float, p50: float, errors: int = 0, scenario: str = "model") -> dict[str, Any]:
    return {
        "scenario": scenario,
        "server": server,
        "concurrency": 8,
        "requests": 1000,
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p50 * 2,
        "errors": errors,
    }


def test_ratios_divide_budgraphs_rate_by_the_others() -> None:
    result = {"cells": [_cell("budgraph", 50, 10), _cell("postgraphile", 100, 5), _cell("floor", 200, 2)]}
    assert report.ratios(result) == {"model": {"budgraph/postgraphile": 0.5, "budgraph/floor": 0.25}}


def test_a_cell_of_mostly_errors_gives_no_ratio() -> None:
    small = {"cells": [_cell("budgraph", 5, 100), _cell("floor", 200, 2)]}
    large = {"cells": [_cell("budgraph", 800, 1, errors=990), _cell("floor", 100, 4)]}
    assert report.ratios(large) == {"model": {"budgraph/postgraphile": None, "budgraph/floor": None}}
    assert report.growth({"1x": small, "10x": large}) == {
        "model": {"budgraph": {"p50": None, "p99": None}, "floor": {"p50": 2.0, "p99": 2.0}}
    }
