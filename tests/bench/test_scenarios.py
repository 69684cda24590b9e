"""The scenarios: given budgraph's schema and limits, every document is valid and within them; given
a small generated registry, budgraph and the floor agree on the facts of every answer (same
versions, images, parsers, uris, scores, changes), and every answer has data."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from graphql import parse, validate

from bench import data
from bench.floor_app import create_floor_app
from bench.scenarios import SCENARIOS, Scenario
from budgraph.graphql.schema import schema
from budgraph.settings import Settings
from tests.live import LiveServer, serve


@pytest.fixture(scope="module")
def floor_server(bench_database: data.BenchDatabase, bench_settings: Settings) -> Iterator[LiveServer]:
    app = create_floor_app(bench_database.dsn, pool_size=2)
    app.state.settings = bench_settings  # what tests.live.serve configures uvicorn from
    with serve(app) as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.key)
def test_every_document_is_valid_against_the_schema(scenario: Scenario) -> None:
    assert validate(schema._schema, parse(scenario.document)) == []


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.key)
async def test_budgraph_and_the_floor_agree_on_the_facts(
    scenario: Scenario,
    bench_database: data.BenchDatabase,
    budgraph_server: LiveServer,
    floor_server: LiveServer,
    http: httpx.AsyncClient,
    bench_settings: Settings,
) -> None:
    body = {"query": scenario.document, "variables": scenario.variables(bench_database.probe)}
    ours = (await http.post(f"{budgraph_server.http}/graphql", json=body)).json()
    floor = (await http.post(f"{floor_server.http}/{scenario.key}", json=body)).json()
    assert ours.get("errors") is None, ours["errors"]
    assert ours["extensions"]["cost"]["requested"] <= bench_settings.max_query_cost
    assert all(ours["data"].values()), ours["data"]
    assert scenario.facts(floor["data"]) == scenario.facts(ours["data"])


async def test_the_answers_are_not_trivially_empty(
    bench_database: data.BenchDatabase, floor_server: LiveServer, http: httpx.AsyncClient
) -> None:
    """Each scenario finds what it is about: versions, changes, models with versions, ranked names."""
    answers: dict[str, Any] = {}
    for scenario in SCENARIOS:
        body = {"variables": scenario.variables(bench_database.probe)}
        answers[scenario.key] = (await http.post(f"{floor_server.http}/{scenario.key}", json=body)).json()[
            "data"
        ]
    assert answers["runtime_slice"]["compatibleEngineVersions"]["nodes"]
    assert answers["latest_version"]["latestEngineVersion"]["version"]
    assert len(answers["changes_since"]["changes"]["changes"]) == 100
    assert len(answers["dashboard"]["models"]["nodes"]) == 50
    assert any(
        node["architecture"]["engineVersions"]["nodes"] for node in answers["dashboard"]["models"]["nodes"]
    )
    assert len(answers["leaderboard"]["leaderboard"]["nodes"]) == 100
    model = answers["model"]["model"]
    assert (model["uri"], len(model["scores"])) == (bench_database.probe.model_uri, TINY_BENCHMARKS)
    connection = await asyncpg.connect(bench_database.dsn)
    try:
        assert await connection.fetchval("SELECT count(*) FROM benchmark") == TINY_BENCHMARKS
    finally:
        await connection.close()


TINY_BENCHMARKS = 4
