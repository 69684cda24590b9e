"""The arq worker: its jobs, crons, Redis connection and shared resources.

``create_worker`` builds the one worker ``budgraph worker`` and ``make dev`` run: a
``ResilientWorker`` (it survives Redis outages and records a heartbeat) over a Redis client whose
reads time out, so a Redis that stops answering is an error to recover from, never a hang.
"""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron, func
from arq.connections import ArqRedis, RedisSettings

from budgraph.app import object_store
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import create_engine, session_factory
from budgraph.settings import Settings, get_settings
from workers.jobs import (
    extract_model,
    refresh_leaderboards,
    reseed_registry,
    scan_model,
    weekly_leaderboard_refresh,
)
from workers.reconcile import reconcile_jobs
from workers.resilient import ResilientWorker

REDIS_SOCKET_TIMEOUT_SECONDS = 10.0
REDIS_CONNECT_TIMEOUT_SECONDS = 2.0


async def startup(ctx: dict[str, Any]) -> None:
    settings = get_settings()
    engine = create_engine(settings)
    ctx["settings"] = settings
    ctx["engine"] = engine
    ctx["sessions"] = session_factory(engine)
    assert settings.redis_url is not None
    ctx["queue"] = ArqJobQueue(settings.redis_url, settings.queue_name)
    ctx["store"] = object_store(settings)
    await ctx["store"].ensure_ready()


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["queue"].close()
    await ctx["engine"].dispose()


def _redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise RuntimeError("BUDGRAPH_REDIS_URL is not set and no embedded Redis was started")
    return settings.redis_url


def redis_settings() -> RedisSettings:
    return RedisSettings.from_dsn(_redis_url(get_settings()))


def redis_pool(settings: Settings) -> ArqRedis:
    """arq's client, with read and connect timeouts (arq's own ``create_pool`` sets no read timeout)."""
    pool: ArqRedis = ArqRedis.from_url(
        _redis_url(settings),
        socket_timeout=REDIS_SOCKET_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS,
    )
    pool.default_queue_name = settings.queue_name
    return pool


# Job functions keep no arq result: the job row holds it, and a kept result would block the next
# job with the same dedupe key (the arq job id).
JOB_FUNCTIONS = [
    func(job, keep_result=0, max_tries=get_settings().job_max_attempts)
    for job in (extract_model, scan_model, refresh_leaderboards)
]


def cron_jobs(settings: Settings) -> list[Any]:
    every = set(range(0, 60, settings.reconcile_interval_seconds))
    jobs = [cron(reconcile_jobs, second=every, unique=True, run_at_startup=True)]
    if settings.leaderboard_scheduler == "arq":
        # Mondays 03:00 UTC; without Dapr. Enqueues the week's refresh once, like the Dapr binding.
        jobs.append(cron(weekly_leaderboard_refresh, weekday=0, hour=3, minute=0, second=0, unique=True))
    return jobs


class WorkerSettings:
    functions: ClassVar[list[Any]] = [reseed_registry, *JOB_FUNCTIONS]
    cron_jobs: ClassVar[list[Any]] = cron_jobs(get_settings())
    on_startup = startup
    on_shutdown = shutdown
    queue_name = get_settings().queue_name
    max_tries = 5
    job_timeout = get_settings().job_timeout_seconds
    keep_result = 3600


def create_worker(settings: Settings, *, burst: bool = False, handle_signals: bool = True) -> ResilientWorker:
    """The worker over these settings' Redis (its jobs read the rest of ``get_settings()``)."""
    return ResilientWorker(
        functions=[reseed_registry, *JOB_FUNCTIONS],
        cron_jobs=cron_jobs(settings),
        on_startup=startup,
        on_shutdown=shutdown,
        queue_name=settings.queue_name,
        max_tries=WorkerSettings.max_tries,
        job_timeout=settings.job_timeout_seconds,
        keep_result=WorkerSettings.keep_result,
        redis_pool=redis_pool(settings),
        burst=burst,
        handle_signals=handle_signals,
        heartbeat_seconds=settings.worker_heartbeat_seconds,
        after_outage=reconcile_jobs,
    )
