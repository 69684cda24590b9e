"""Putting jobs on the arq queue (after the commit that created their rows) and announcing updates."""

from __future__ import annotations

import json
from typing import Any, Protocol

from arq import ArqRedis, create_pool
from arq.connections import RedisSettings

QUEUE_NAME = "budgraph:queue"
FUNCTIONS = {"extract": "extract_model", "scan": "scan_model", "leaderboard_refresh": "refresh_leaderboards"}


def channel(queue_name: str, job_id: int) -> str:
    """The pub/sub channel of a job's updates. Pub/sub ignores Redis database numbers, so it is
    named by the queue: registries that share a Redis server never hear each other's jobs."""
    return f"{queue_name}:job:{job_id}"


class JobQueue(Protocol):
    async def enqueue(self, kind: str, job_id: int, dedupe_key: str) -> bool: ...

    async def publish(self, job_id: int, payload: dict[str, Any]) -> None: ...

    async def close(self) -> None: ...


def arq_job_id(dedupe_key: str, job_id: int, prefix: str = "") -> str:
    """The arq job id of a job row: its dedupe key and row id.

    The dedupe key alone guards against duplicates in PostgreSQL (a unique index over active jobs),
    which survives a Redis restart; adding the row id means a stale arq key (a lost queue entry
    whose job key outlived it) can never block the next job for the same model and revision, while
    arq still refuses to enqueue the same row twice (after-commit and the reconciler racing).
    """
    return f"{prefix}{dedupe_key}#{job_id}"


class ArqJobQueue:
    """The arq queue on Redis."""

    def __init__(self, redis_url: str, queue_name: str = QUEUE_NAME, job_id_prefix: str = "") -> None:
        self.settings = RedisSettings.from_dsn(redis_url)
        self.queue_name = queue_name
        self.job_id_prefix = job_id_prefix
        self._pool: ArqRedis | None = None

    async def pool(self) -> ArqRedis:
        if self._pool is None:
            self._pool = await create_pool(self.settings, default_queue_name=self.queue_name)
        return self._pool

    async def enqueue(self, kind: str, job_id: int, dedupe_key: str) -> bool:
        """False when arq already holds a job with this id (it will run, or is running)."""
        pool = await self.pool()
        arq_id = arq_job_id(dedupe_key, job_id, self.job_id_prefix)
        job = await pool.enqueue_job(FUNCTIONS[kind], job_id, _job_id=arq_id, _queue_name=self.queue_name)
        return job is not None

    async def publish(self, job_id: int, payload: dict[str, Any]) -> None:
        pool = await self.pool()
        await pool.publish(channel(self.queue_name, job_id), json.dumps(payload, default=str))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None
