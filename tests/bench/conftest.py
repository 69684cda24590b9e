"""A small generated registry for the benchmark's tests: migrated, seeded and generated once per
session in a database of its own (its rows are committed, so it never shares the suite's)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from bench import data
from bench.scale import TINY
from budgraph.app import create_app
from budgraph.cli import seed_now
from budgraph.kit.migrate import upgrade
from budgraph.settings import Settings
from tests.conftest import Servers, _drop_database, _recreate_database
from tests.live import LiveServer, serve


@pytest.fixture(scope="session")
async def bench_database(servers: Servers) -> AsyncIterator[data.BenchDatabase]:
    name = f"budgraph_bench_test_{os.getpid()}"
    url = await _recreate_database(servers.admin_database_url, name)
    await asyncio.to_thread(upgrade, url)
    await seed_now(Settings(database_url=url, redis_url=servers.redis_url))
    probe, counts = await data.generate(data.plain_dsn(url), TINY)
    yield data.BenchDatabase(url, data.plain_dsn(url), probe, 0.0, True, counts)
    await _drop_database(servers.admin_database_url, name)


@pytest.fixture(scope="session")
def bench_settings(bench_database: data.BenchDatabase, servers: Servers) -> Settings:
    return Settings(
        database_url=bench_database.url,
        redis_url=servers.redis_url,
        response_cache=False,
        rate_limit_anonymous_budget=2**31 - 1,
        rate_limit_redis_prefix=f"budgraph:test:bench:{os.getpid()}:ratelimit",
    )


@pytest.fixture(scope="session")
def budgraph_server(bench_settings: Settings) -> Iterator[LiveServer]:
    with serve(create_app(bench_settings)) as server:
        yield server
