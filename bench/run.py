"""The benchmark (issue 9): budgraph against PostGraphile 4 and a hand-written SQL floor, on a generated
registry at 1x and 10x, under wrk at several concurrencies, with SQL statements counted per request.

    make bench                     # or: python -m bench.run [--scale 1x|10x|both] [--duration S]
                                   #     [--concurrency 1,8,32] [--scenarios a,b] [--servers a,b] [--quick]

Per scale: the database is built (or reused, see bench/data.py); then for each server, a counting
phase (the server on the database through the counting proxy: every answer checked, then N
sequential requests counted) and a load phase (the server straight on the database: the answer
checked again, a warm-up, then one wrk run per concurrency). Results go to
bench/results/<timestamp>-<scale>.json, bench/results/latest.json and bench/results/latest.png.

Database: BUDGRAPH_BENCH_DATABASE_URL or BUDGRAPH_TEST_DATABASE_URL (an admin URL), Redis:
BUDGRAPH_BENCH_REDIS_URL or BUDGRAPH_TEST_REDIS_URL; else embedded servers in .budgraph/bench.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench import data, postgraphile, report
from bench.load import ensure_wrk, run_wrk
from bench.scale import SCALES
from bench.scenarios import BY_KEY, SCENARIOS, Scenario
from bench.servers import SERVERS, Running, running
from bench.sqlcount import counting_proxy, upstream_of

RESULTS = data.ROOT / "bench" / "results"
COUNTED_REQUESTS = 50


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["1x", "10x", "both"], default="1x")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk cell")
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated connection counts")
    parser.add_argument("--scenarios", default=",".join(s.key for s in SCENARIOS))
    parser.add_argument("--servers", default=",".join(SERVERS))
    parser.add_argument("--quick", action="store_true", help="2 s per cell, short warm-ups")
    options = parser.parse_args(argv)
    options.concurrency = [int(c) for c in options.concurrency.split(",")]
    options.scenarios = [BY_KEY[key] for key in options.scenarios.split(",")]
    options.servers = options.servers.split(",")
    unknown = set(options.servers) - set(SERVERS)
    if unknown:
        parser.error(f"unknown servers {sorted(unknown)}; known: {', '.join(SERVERS)}")
    if options.quick:
        options.duration = min(options.duration, 2.0)
    options.warmup = 1.0 if options.quick else 2.0
    return options


class WrongAnswer(Exception):
    """A server answered a scenario with an error or without data: the scenario is not loaded."""


def check(client: httpx.Client, server: str, scenario: Scenario, target: Any) -> dict[str, Any]:
    """The answer, once: a 200 without `errors` and with data; else WrongAnswer (reported, not timed)."""
    response = client.post(target.url, json=target.body, timeout=30)
    body = response.json() if response.headers.get("content-type", "").startswith("application") else {}
    answer = body.get("data")
    if response.status_code != 200 or body.get("errors") or not answer or not any(answer.values()):
        raise SystemExit(
            f"{server} answered {scenario.key} wrongly ({response.status_code}): {response.text[:600]}"
        )
    result: dict[str, Any] = answer
    return result


def count_statements(
    database: data.BenchDatabase,
    redis_url: str,
    server: str,
    scenarios: list[Scenario],
    failures: dict[str, str],
) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Statements per request for each scenario, over sequential requests after a warm-up."""
    counts: dict[str, dict[str, Any]] = {}
    answers: dict[str, Any] = {}
    with (
        counting_proxy(*upstream_of(database.dsn)) as proxy,
        running(server, database.url, database.dsn, redis_url, proxy.port) as live,
        httpx.Client() as client,
    ):
        for scenario in scenarios:
            target = live.target(scenario, database.probe)
            try:
                answers[scenario.key] = check(client, server, scenario, target)
            except WrongAnswer as error:
                failures[scenario.key] = str(error)
                print(f"    {error}", flush=True)
                continue
            for _ in range(5):
                client.post(target.url, json=target.body)
            before = (proxy.counts.statements, proxy.counts.transaction_control)
            for _ in range(COUNTED_REQUESTS):
                client.post(target.url, json=target.body)
            time.sleep(0.2)  # the last request's trailing COMMIT / pool reset
            counts[scenario.key] = {
                "statements": (proxy.counts.statements - before[0]) / COUNTED_REQUESTS,
                "transaction_control": (proxy.counts.transaction_control - before[1]) / COUNTED_REQUESTS,
            }
            # What one request sends, in order: where the round trips go.
            start = len(proxy.counts.texts)
            client.post(target.url, json=target.body)
            time.sleep(0.2)
            counts[scenario.key]["one_request"] = [
                " ".join(t.split())[:200] for t in proxy.counts.texts[start:]
            ]
    return counts, answers


def load(
    live: Running, database: data.BenchDatabase, scenario: Scenario, options: argparse.Namespace
) -> list[dict[str, Any]]:
    target = live.target(scenario, database.probe)
    with httpx.Client() as client:
        check(client, live.name, scenario, target)
    run_wrk(target.url, target.body, 8, options.warmup)
    cells = []
    for concurrency in options.concurrency:
        cell = run_wrk(target.url, target.body, concurrency, options.duration)
        cells.append(cell.as_json())
        print(
            f"    {scenario.key:<16} {live.name:<16} c{concurrency:<3} {cell.rps:>8.1f} req/s"
            f"  p50 {cell.p50_ms:.2f} ms  p99 {cell.p99_ms:.2f} ms  errors {cell.errors}",
            flush=True,
        )
    return cells


def measure(database: data.BenchDatabase, redis_url: str, options: argparse.Namespace) -> dict[str, Any]:
    cells: list[dict[str, Any]] = []
    answers: dict[str, dict[str, Any]] = {}
    statements: dict[str, dict[str, dict[str, Any]]] = {}
    failures: dict[str, dict[str, str]] = {}
    for server in options.servers:
        scenarios = [s for s in options.scenarios if server != "budgraph-cached" or s.cacheable]
        if not scenarios:
            continue
        print(f"  {server}: counting statements", flush=True)
        failed = failures.setdefault(server, {})
        statements[server], answers[server] = count_statements(database, redis_url, server, scenarios, failed)
        print(f"  {server}: load", flush=True)
        with running(server, database.url, database.dsn, redis_url) as live:
            for scenario in scenarios:
                if scenario.key in failed:
                    continue
                try:
                    loaded = load(live, database, scenario, options)
                except WrongAnswer as error:
                    failed[scenario.key] = str(error)
                    print(f"    {error}", flush=True)
                    continue
                for cell in loaded:
                    counted = statements[server][scenario.key]
                    cells.append(
                        {
                            "scenario": scenario.key,
                            "server": server,
                            **cell,
                            "statements_per_request": counted["statements"],
                            "transaction_control_per_request": counted["transaction_control"],
                        }
                    )
    agreement = {
        s.key: s.facts(answers["budgraph"][s.key]) == s.facts(answers["floor"][s.key])
        for s in options.scenarios
        if s.key in answers.get("budgraph", {}) and s.key in answers.get("floor", {})
    }
    return {
        "cells": cells,
        "failures": {server: found for server, found in failures.items() if found},
        "statements": statements,
        "floor_agrees_with_budgraph": agreement,
        "postgraphile_notes": {s.key: s.postgraphile_note for s in options.scenarios},
    }


def servers_from_environment() -> tuple[str, str, Any]:
    admin = os.environ.get("BUDGRAPH_BENCH_DATABASE_URL") or os.environ.get("BUDGRAPH_TEST_DATABASE_URL")
    redis_url = os.environ.get("BUDGRAPH_BENCH_REDIS_URL") or os.environ.get("BUDGRAPH_TEST_REDIS_URL")
    embedded = None
    if not admin or not redis_url:
        from budgraph.kit.embedded import EmbeddedServices

        embedded = EmbeddedServices(data.ROOT / ".budgraph" / "bench")
        urls = embedded.start()
        admin, redis_url = admin or urls.database_url, redis_url or urls.redis_url
    return admin, redis_url, embedded


def main(argv: list[str] | None = None) -> None:
    options = parse(argv)
    ensure_wrk()
    if "postgraphile" in options.servers:
        postgraphile.ensure_installed()
    admin, redis_url, embedded = servers_from_environment()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    results: dict[str, dict[str, Any]] = {}
    try:
        for name in ["1x", "10x"] if options.scale == "both" else [options.scale]:
            print(f"scale {name}", flush=True)
            database = asyncio.run(data.ensure(admin, redis_url, SCALES[name]))
            started = datetime.now(UTC).isoformat(timespec="seconds")
            result = {
                "scale": name,
                "started_at": started,
                "command": command.strip(),
                "settings": {
                    "duration_seconds": options.duration,
                    "concurrency": options.concurrency,
                    "warmup_seconds": options.warmup,
                    "counted_requests": COUNTED_REQUESTS,
                    "statements_counted": "sequential requests through the counting proxy, not under load",
                },
                "database": {
                    "name": data.database_name(SCALES[name]),
                    "generator_version": data.GENERATOR_VERSION,
                    "generation_seconds": round(database.seconds, 1),
                    "rebuilt_now": database.rebuilt,
                    "rows": database.counts,
                },
                "probe": database.probe.__dict__,
                **measure(database, redis_url, options),
            }
            result["ratios_c8"] = report.ratios(result)
            results[name] = result
            report.write_json(RESULTS / f"{stamp}-{name}.json", result)
            print(report.table(result), flush=True)
    finally:
        if embedded is not None:
            embedded.stop()
    latest = {"command": command.strip(), "scales": results, "latency_10x_over_1x_c8": report.growth(results)}
    report.write_json(RESULTS / "latest.json", latest)
    print(report.summary(results))
    try:
        report.chart(results, RESULTS / "latest.png")
    except ImportError:
        print("matplotlib is missing (pip install -e '.[bench]'): no chart")


if __name__ == "__main__":
    main()
