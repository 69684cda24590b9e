"""`/readyz` against the real app, PostgreSQL and Redis: ok only when the database and Redis answer,
a worker beats and is not stuck, and nothing waits too long; otherwise 503 saying what is wrong.
`/healthz` stays the cheap liveness check."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from redis.asyncio import Redis

from budgraph.app import create_app
from budgraph.health import heartbeats
from budgraph.settings import Settings
from tests.live import LiveServer, plain_dsn, serve

NO_WORKER = "workers: no worker has recorded a heartbeat in the last 30s"


def _get(url: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(url, timeout=10)
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def _beat(
    settings: Settings, worker: str, *, polled_ago: float = 0.0, beat_ago: float = 0.0, running: int = 0
) -> None:
    assert settings.redis_url is not None
    redis = Redis.from_url(settings.redis_url)
    try:
        moment = time.time()
        beat = heartbeats.Heartbeat(worker, moment - beat_ago, moment - polled_ago, running, max_jobs=2)
        await heartbeats.record(redis, settings.queue_name, beat)
    finally:
        await redis.aclose()


@pytest.fixture
async def clean_redis(live_settings: Settings) -> Any:
    yield
    assert live_settings.redis_url is not None
    redis = Redis.from_url(live_settings.redis_url)
    await redis.delete(live_settings.queue_name, heartbeats.heartbeats_key(live_settings.queue_name))
    await redis.aclose()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_ready_with_a_living_worker(
    live: LiveServer, live_settings: Settings, clean_redis: None
) -> None:
    status, body = _get(f"{live.http}/readyz")
    assert (status, body["status"], body["problems"]) == (503, "unavailable", [NO_WORKER])
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["queue"] == {"depth": 0, "due": 0, "oldestDueSeconds": None}
    assert body["checks"]["jobs"] == {"queued": 0, "oldestQueuedSeconds": None}

    await _beat(live_settings, "host:1:a")
    status, body = _get(f"{live.http}/readyz")
    assert (status, body["status"], body["problems"]) == (200, "ok", [])
    assert body["checks"]["workers"]["alive"] == 1
    assert [w["id"] for w in body["checks"]["workers"]["workers"]] == ["host:1:a"]
    assert _get(f"{live.http}/healthz") == (200, {"status": "ok", "version": body["version"]})


async def test_a_stuck_or_silent_worker_is_not_ready(
    live: LiveServer, live_settings: Settings, clean_redis: None
) -> None:
    await _beat(live_settings, "host:1:stuck", polled_ago=120)
    status, body = _get(f"{live.http}/readyz")
    assert status == 503
    assert body["problems"] == ["workers: host:1:stuck is stuck (its poll loop last ran 120s ago)"]

    await _beat(live_settings, "host:1:stuck", polled_ago=120, beat_ago=60)  # stopped beating
    status, body = _get(f"{live.http}/readyz")
    assert (status, body["problems"]) == (503, [NO_WORKER])
    assert body["checks"]["workers"]["alive"] == 0


async def test_a_full_worker_is_busy_not_stuck(
    live: LiveServer, live_settings: Settings, clean_redis: None
) -> None:
    await _beat(live_settings, "host:1:busy", polled_ago=120, running=2)
    assert _get(f"{live.http}/readyz")[0] == 200


async def test_a_job_waiting_too_long_is_not_ready(
    live: LiveServer, live_settings: Settings, live_url: str, clean_redis: None
) -> None:
    await _beat(live_settings, "host:1:a")
    assert live_settings.redis_url is not None
    redis = Redis.from_url(live_settings.redis_url)
    try:
        await redis.zadd(live_settings.queue_name, {"old-job": (time.time() - 900) * 1000, "later": 9e15})
    finally:
        await redis.aclose()
    connection = await asyncpg.connect(plain_dsn(live_url))
    try:
        await connection.execute(
            "INSERT INTO job (kind, target, dedupe_key, status, progress, step, attempts, requested_by,"
            " created_at, updated_at) VALUES ('extract', 'm', 'k', 'queued', 0, 'queued', 0, 'test',"
            " now() - interval '20 minutes', now() - interval '20 minutes')"
        )
    finally:
        await connection.close()
    status, body = _get(f"{live.http}/readyz")
    assert status == 503
    assert body["checks"]["queue"]["depth"] == 2
    assert body["checks"]["queue"]["due"] == 1
    assert 899 < body["checks"]["queue"]["oldestDueSeconds"] < 960
    assert body["checks"]["jobs"]["queued"] == 1
    assert [problem.split(" ")[0:4] for problem in body["problems"]] == [
        ["jobs:", "a", "queued", "job"],
        ["queue:", "a", "job", "has"],
    ]


def test_unreachable_dependencies_are_named(live_settings: Settings, tmp_path: Path) -> None:
    settings = live_settings.model_copy(
        update={
            "database_url": f"postgresql+asyncpg://postgres@127.0.0.1:{_closed_port()}/gone",
            "redis_url": f"redis://127.0.0.1:{_closed_port()}/0",
            "readiness_timeout_seconds": 1.0,
        }
    )
    with serve(create_app(settings)) as server:
        began = time.monotonic()
        status, body = _get(f"{server.http}/readyz")
        assert time.monotonic() - began < 5
    assert (status, body["status"]) == (503, "unavailable")
    assert body["problems"] == [
        "database: PostgreSQL is unreachable",
        "redis: Redis is unreachable (no jobs can be queued or run)",
    ]
    assert "127.0.0.1" not in str(body)  # no addresses or exception texts
