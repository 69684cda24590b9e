"""Worker heartbeats, kept in Redis next to the queue they serve.

Each worker beats every ``worker_heartbeat_seconds`` from a task of its own: the time of the beat, and
the time its poll loop last went round (a loop that hangs while the process lives is a stuck worker,
not a busy one: a full worker still goes round). Readiness reads them; a worker that stops beating
is dropped from the hash after a day.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from collections.abc import Awaitable
from dataclasses import asdict, dataclass
from typing import Any, cast

from redis.asyncio import Redis

FORGET_AFTER_SECONDS = 24 * 3600.0


def heartbeats_key(queue_name: str) -> str:
    return f"{queue_name}:workers"


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class Heartbeat:
    worker: str
    beat_at: float  # seconds since the epoch
    polled_at: float
    running: int
    max_jobs: int

    def age(self, now: float) -> float:
        return max(0.0, now - self.beat_at)

    def since_poll(self, now: float) -> float:
        return max(0.0, now - self.polled_at)


async def record(redis: Redis, queue_name: str, beat: Heartbeat) -> None:
    payload = {k: v for k, v in asdict(beat).items() if k != "worker"}
    # redis-py types its commands for both clients (``Awaitable[int] | int``): these are the async ones.
    await cast(Awaitable[int], redis.hset(heartbeats_key(queue_name), beat.worker, json.dumps(payload)))


async def forget(redis: Redis, queue_name: str, worker: str) -> None:
    await cast(Awaitable[int], redis.hdel(heartbeats_key(queue_name), worker))


async def heartbeats(redis: Redis, queue_name: str) -> list[Heartbeat]:
    """The workers that beat within the last day, newest first (older ones are removed)."""
    now = time.time()
    raw = await cast(Awaitable[dict[Any, Any]], redis.hgetall(heartbeats_key(queue_name)))
    beats, forgotten = [], []
    for worker, value in raw.items():
        name = worker.decode() if isinstance(worker, bytes) else worker
        try:
            data = json.loads(value)
            beat = Heartbeat(
                name,
                float(data["beat_at"]),
                float(data["polled_at"]),
                int(data["running"]),
                int(data["max_jobs"]),
            )
        except (ValueError, KeyError, TypeError):
            forgotten.append(name)
            continue
        if beat.age(now) > FORGET_AFTER_SECONDS:
            forgotten.append(name)
        else:
            beats.append(beat)
    if forgotten:
        await cast(Awaitable[int], redis.hdel(heartbeats_key(queue_name), *forgotten))
    return sorted(beats, key=lambda beat: beat.beat_at, reverse=True)
