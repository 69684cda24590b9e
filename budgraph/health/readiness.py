"""Readiness: can the registry do its work right now, and if not, what is missing.

Four checks, each bounded by ``readiness_timeout_seconds``: PostgreSQL answers; Redis answers; a
worker has beaten within ``worker_stale_after_seconds`` and none of the living ones is stuck (its
poll loop stopped going round while it had room for jobs); nothing has waited on the queue, or as a
queued job row, longer than ``queue_stuck_after_seconds``. With registry events on, a fifth: no
committed change has waited longer than ``events_stuck_after_seconds`` to be published. Problems
are said in words an operator can act on; exception texts (which may hold addresses or paths) are
not shown.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.events import repository as events
from budgraph.health import heartbeats, repository
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings


@dataclass
class Readiness:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self, version: str) -> dict[str, Any]:
        status = "ok" if self.ok else "unavailable"
        return {"status": status, "version": version, "problems": self.problems, "checks": self.checks}


async def _database(
    readiness: Readiness, sessions: async_sessionmaker[RequestSession], settings: Settings
) -> None:
    began, timeout = time.monotonic(), settings.readiness_timeout_seconds

    async def probe() -> tuple[repository.WaitingJobs, events.Backlog | None]:
        async with UnitOfWork(sessions, actor="readiness") as uow:
            await repository.ping(uow.session)
            waiting = await repository.waiting_jobs(uow.session)
            backlog = await events.backlog(uow.session) if settings.events_pubsub else None
            return waiting, backlog

    try:
        waiting, backlog = await asyncio.wait_for(probe(), timeout)
    except TimeoutError:
        readiness.checks["database"] = {"status": "timeout"}
        readiness.problems.append(f"database: PostgreSQL did not answer within {timeout:g}s")
        return
    except Exception as error:
        readiness.checks["database"] = {"status": "unreachable", "error": type(error).__name__}
        readiness.problems.append("database: PostgreSQL is unreachable")
        return
    readiness.checks["database"] = {"status": "ok", "latencyMs": round((time.monotonic() - began) * 1000, 1)}
    oldest = (now() - waiting.oldest_update).total_seconds() if waiting.oldest_update else None
    readiness.checks["jobs"] = {"queued": waiting.count, "oldestQueuedSeconds": _round(oldest)}
    if backlog is not None:
        _events(readiness, settings, backlog)


def _events(readiness: Readiness, settings: Settings, backlog: events.Backlog) -> None:
    waited = (now() - backlog.oldest_unpublished).total_seconds() if backlog.oldest_unpublished else None
    readiness.checks["events"] = {
        "publishedChangeId": backlog.published_change_id,
        "unpublished": backlog.unpublished,
        "oldestUnpublishedSeconds": _round(waited),
    }
    if waited is not None and waited > settings.events_stuck_after_seconds:
        readiness.problems.append(
            f"events: a change committed {waited:.0f}s ago is not published yet (is the Dapr sidecar or"
            " its pub/sub broker down?)"
        )


def _round(seconds: float | None) -> float | None:
    return None if seconds is None else round(max(0.0, seconds), 1)


async def _redis(readiness: Readiness, settings: Settings) -> None:
    timeout = settings.readiness_timeout_seconds
    if not settings.redis_url:
        readiness.checks["redis"] = {"status": "not configured"}
        readiness.problems.append("redis: BUDGRAPH_REDIS_URL is not set")
        return
    redis = Redis.from_url(settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
    try:
        began = time.monotonic()
        await asyncio.wait_for(redis.ping(), timeout)
        latency = round((time.monotonic() - began) * 1000, 1)
        beats = await asyncio.wait_for(heartbeats.heartbeats(redis, settings.queue_name), timeout)
        depth, due, oldest = await asyncio.wait_for(_queue(redis, settings.queue_name), timeout)
    except Exception as error:
        readiness.checks["redis"] = {"status": "unreachable", "error": type(error).__name__}
        readiness.problems.append("redis: Redis is unreachable (no jobs can be queued or run)")
        return
    finally:
        await redis.aclose()
    readiness.checks["redis"] = {"status": "ok", "latencyMs": latency}
    _workers(readiness, settings, beats)
    readiness.checks["queue"] = {"depth": depth, "due": due, "oldestDueSeconds": _round(oldest)}
    if oldest is not None and oldest > settings.queue_stuck_after_seconds:
        readiness.problems.append(f"queue: a job has been due for {oldest:.0f}s and no worker took it")


async def _queue(redis: Redis, queue_name: str) -> tuple[int, int, float | None]:
    """Entries on the arq queue, those due now, and how long the oldest due one has waited."""
    now_ms = time.time() * 1000
    depth = int(await redis.zcard(queue_name))
    due = int(await redis.zcount(queue_name, "-inf", now_ms))
    first: list[tuple[bytes, float]] = await redis.zrangebyscore(
        queue_name, "-inf", now_ms, start=0, num=1, withscores=True
    )
    oldest = (now_ms - first[0][1]) / 1000 if first else None
    return depth, due, oldest


def _workers(readiness: Readiness, settings: Settings, beats: list[heartbeats.Heartbeat]) -> None:
    moment, stale = time.time(), settings.worker_stale_after_seconds
    alive = [beat for beat in beats if beat.age(moment) <= stale]
    stuck = [beat for beat in alive if beat.since_poll(moment) > stale and beat.running < beat.max_jobs]
    readiness.checks["workers"] = {
        "alive": len(alive),
        "stuck": len(stuck),
        "workers": [
            {
                "id": beat.worker,
                "lastBeatSecondsAgo": _round(beat.age(moment)),
                "lastPollSecondsAgo": _round(beat.since_poll(moment)),
                "runningJobs": beat.running,
                "maxJobs": beat.max_jobs,
            }
            for beat in beats
        ],
    }
    if not alive:
        readiness.problems.append(f"workers: no worker has recorded a heartbeat in the last {stale:g}s")
    for beat in stuck:
        readiness.problems.append(
            f"workers: {beat.worker} is stuck (its poll loop last ran {beat.since_poll(moment):.0f}s ago)"
        )


async def readiness(sessions: async_sessionmaker[RequestSession], settings: Settings) -> Readiness:
    result = Readiness()
    await asyncio.gather(_database(result, sessions, settings), _redis(result, settings))
    jobs = result.checks.get("jobs")
    oldest = jobs.get("oldestQueuedSeconds") if jobs else None
    if oldest is not None and oldest > settings.queue_stuck_after_seconds:
        result.problems.append(f"jobs: a queued job has waited {oldest:.0f}s without being run")
    result.problems.sort()
    return result
