"""The API while its PostgreSQL stalls or stops: typed 503s at once, and recovery by itself.

Given the app served on an embedded PostgreSQL of this test's own, when every PostgreSQL process is
frozen (SIGSTOP: the server neither answers nor refuses) or stopped, then requests are answered
with a typed SERVICE_UNAVAILABLE, almost all of them at once (the first ones find out, the others
are told), none waits for the pool's timeout, and when PostgreSQL is back the app answers again
without being restarted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from budgraph.app import create_app
from budgraph.kit.embedded import EmbeddedServices
from budgraph.kit.migrate import upgrade
from budgraph.settings import Settings
from tests.live import LiveServer, serve

pytestmark = pytest.mark.slow

QUERY = {"query": "{ engines(first: 5) { totalCount nodes { slug } } }"}


@dataclass
class Outage:
    services: EmbeddedServices
    api: LiveServer
    pgdata: Path

    def postgres_processes(self) -> list[psutil.Process]:
        pid = int((self.pgdata / "postmaster.pid").read_text().splitlines()[0])
        postmaster = psutil.Process(pid)
        return [postmaster, *postmaster.children(recursive=True)]


@pytest.fixture
def outage(embedded_dir: Path, tmp_path: Path) -> Iterator[Outage]:
    with EmbeddedServices(embedded_dir) as services:
        upgrade(services.urls.database_url)
        settings = Settings(
            database_url=services.urls.database_url,
            redis_url=services.urls.redis_url,
            objects_dir=tmp_path / "objects",
            db_pool_size=4,
            db_statement_timeout_ms=1000,  # the client gives up on a silent server after 2 s
            db_connect_timeout_seconds=1.0,
            db_pool_timeout_seconds=1.0,
            request_timeout_seconds=10.0,
        )
        with serve(create_app(settings)) as api:
            yield Outage(services, api, embedded_dir / "postgres")


async def _timed(client: httpx.AsyncClient) -> tuple[float, int, str | None]:
    began = time.monotonic()
    response = await client.post("/graphql", json=QUERY)
    body: dict[str, Any] = response.json()
    code = body["errors"][0]["extensions"]["code"] if body.get("errors") else None
    return time.monotonic() - began, response.status_code, code


async def _recovered(client: httpx.AsyncClient, deadline: float) -> float:
    began = time.monotonic()
    while time.monotonic() - began < deadline:
        response = await client.post("/graphql", json=QUERY)
        if response.status_code == 200 and not response.json().get("errors"):
            return time.monotonic() - began
        await asyncio.sleep(0.2)
    raise AssertionError(f"the API did not recover within {deadline} s")


async def test_a_stalled_database_is_answered_503_at_once_and_the_api_recovers(outage: Outage) -> None:
    async with httpx.AsyncClient(base_url=outage.api.http, timeout=60) as client:
        for _ in range(5):
            assert (await _timed(client))[1] == 200
        frozen = outage.postgres_processes()
        for process in frozen:
            os.kill(process.pid, signal.SIGSTOP)
        try:
            answers = []
            for _ in range(6):
                answers += await asyncio.gather(*(_timed(client) for _ in range(5)))
            health = await client.get("/healthz")
        finally:
            for process in frozen:
                os.kill(process.pid, signal.SIGCONT)
        recovery = await _recovered(client, 30)
    fast = [elapsed for elapsed, _, _ in answers if elapsed < 1.0]
    print(f"\nstall: {len(answers)} answers while frozen, {len(fast)} in under 1 s, slowest"
          f" {max(e for e, _, _ in answers):.2f} s; recovered {recovery:.2f} s after SIGCONT")  # fmt: skip
    assert {(status, code) for _, status, code in answers} == {(503, "SERVICE_UNAVAILABLE")}
    # The first requests find the database silent (the client's 2 s statement deadline); the rest
    # are told at once. Nobody waits for the pool's timeout, let alone the 30 s of old.
    assert len(fast) >= len(answers) - 10, sorted(elapsed for elapsed, _, _ in answers)
    assert max(elapsed for elapsed, _, _ in answers) < 10
    assert health.status_code == 503
    assert recovery < 30


async def test_a_stopped_database_is_answered_503_and_the_api_recovers(outage: Outage) -> None:
    async with httpx.AsyncClient(base_url=outage.api.http, timeout=60) as client:
        assert (await _timed(client))[1] == 200
        outage.services.stop_postgres()
        try:
            answers = [await _timed(client) for _ in range(10)]
        finally:
            outage.services.start_postgres()
        recovery = await _recovered(client, 30)
    print(f"\nstop: {len(answers)} answers while stopped, slowest {max(e for e, _, _ in answers):.2f} s;"
          f" recovered {recovery:.2f} s after the restart")  # fmt: skip
    assert {(status, code) for _, status, code in answers} == {(503, "SERVICE_UNAVAILABLE")}
    assert max(elapsed for elapsed, _, _ in answers) < 5
    assert recovery < 30


async def test_connections_a_database_restart_closed_are_replaced_without_a_failed_request(
    outage: Outage,
) -> None:
    # Given a pool whose every connection has served (concurrent requests open all four),
    async with httpx.AsyncClient(base_url=outage.api.http, timeout=60) as client:
        before = await asyncio.gather(*(_timed(client) for _ in range(8)))
        # when PostgreSQL restarts between requests (every pooled connection is now dead),
        outage.services.stop_postgres()
        outage.services.start_postgres()
        after = [await _timed(client) for _ in range(3)]
        after += await asyncio.gather(*(_timed(client) for _ in range(8)))
    # then no request fails: a closed connection is refused at checkout (no ping needed) and the
    # pool opens a new one in its place.
    assert {(status, code) for _, status, code in before} == {(200, None)}
    assert [(status, code) for _, status, code in after] == [(200, None)] * 11
