"""arq ``WorkerSettings``: the worker's jobs, Redis connection and shared resources."""

from __future__ import annotations

from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings

from budgraph.app import object_store
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import create_engine, session_factory
from budgraph.settings import get_settings
from workers.jobs import (
    extract_model,
    refresh_leaderboards,
    reseed_registry,
    scan_model,
    weekly_leaderboard_refresh,
)
from workers.reconcile import reconcile_jobs


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


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("BUDGRAPH_REDIS_URL is not set and no embedded Redis was started")
    return RedisSettings.from_dsn(url)


# Job functions keep no arq result: the job row holds it, and a kept result would block the next
# job with the same dedupe key (the arq job id).
JOB_FUNCTIONS = [
    func(job, keep_result=0, max_tries=get_settings().job_max_attempts)
    for job in (extract_model, scan_model, refresh_leaderboards)
]


def cron_jobs() -> list[Any]:
    jobs = [cron(reconcile_jobs, second=0, unique=True, run_at_startup=True)]
    if get_settings().leaderboard_scheduler == "arq":
        # Mondays 03:00 UTC; without Dapr. Enqueues the week's refresh once, like the Dapr binding.
        jobs.append(cron(weekly_leaderboard_refresh, weekday=0, hour=3, minute=0, second=0, unique=True))
    return jobs


class WorkerSettings:
    functions: ClassVar[list[Any]] = [reseed_registry, *JOB_FUNCTIONS]
    cron_jobs: ClassVar[list[Any]] = cron_jobs()
    on_startup = startup
    on_shutdown = shutdown
    queue_name = get_settings().queue_name
    max_tries = 5
    job_timeout = get_settings().job_timeout_seconds
    keep_result = 3600
