"""arq ``WorkerSettings``: the worker's jobs, Redis connection and shared resources."""

from __future__ import annotations

from typing import Any, ClassVar

from arq.connections import RedisSettings

from budgraph.kit.db import create_engine, session_factory
from budgraph.settings import get_settings
from workers.jobs import reseed_registry


async def startup(ctx: dict[str, Any]) -> None:
    engine = create_engine(get_settings())
    ctx["engine"] = engine
    ctx["sessions"] = session_factory(engine)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["engine"].dispose()


def redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    if not url:
        raise RuntimeError("BUDGRAPH_REDIS_URL is not set and no embedded Redis was started")
    return RedisSettings.from_dsn(url)


class WorkerSettings:
    functions: ClassVar[list[Any]] = [reseed_registry]
    on_startup = startup
    on_shutdown = shutdown
    queue_name = "budgraph:queue"
    max_tries = 5
    job_timeout = 600
    keep_result = 3600
