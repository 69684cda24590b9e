"""`budgraph dev`: the whole stack in one process, on embedded servers unless configured."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from contextlib import ExitStack
from types import FrameType

from budgraph.settings import Settings, get_settings

log = logging.getLogger("budgraph.dev")


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


async def _serve_and_work(settings: Settings) -> None:
    import uvicorn
    from arq.connections import RedisSettings
    from arq.worker import create_worker

    from budgraph.app import create_app
    from budgraph.server import uvicorn_config
    from workers.main import WorkerSettings

    assert settings.redis_url is not None
    server = uvicorn.Server(uvicorn_config(create_app(settings), settings))
    worker = create_worker(
        WorkerSettings,  # type: ignore[arg-type]
        redis_settings=RedisSettings.from_dsn(settings.redis_url),
        handle_signals=False,
    )
    worker_task = asyncio.create_task(worker.async_run())
    log.info("GraphQL playground on http://%s:%s/graphql", settings.host, settings.port)
    try:
        await server.serve()
    finally:
        worker_task.cancel()
        await asyncio.gather(worker_task, return_exceptions=True)
        await worker.close()


def run_dev(settings: Settings) -> None:
    from budgraph.cli import _refresh_leaderboards, _seed
    from budgraph.kit.migrate import upgrade

    # SIGTERM becomes KeyboardInterrupt too, so embedded servers are always stopped.
    signal.signal(signal.SIGTERM, _interrupt)
    with ExitStack() as stack:
        if not settings.database_url or not settings.redis_url:
            from budgraph.kit.embedded import EmbeddedServices

            embedded = stack.enter_context(EmbeddedServices(settings.data_dir))
            os.environ.setdefault("BUDGRAPH_DATABASE_URL", embedded.urls.database_url)
            os.environ.setdefault("BUDGRAPH_REDIS_URL", embedded.urls.redis_url)
            # A bare machine may be offline: show leaderboards from the recorded samples.
            os.environ.setdefault("BUDGRAPH_LEADERBOARDS_OFFLINE", "true")
            get_settings.cache_clear()
            settings = get_settings()
        assert settings.database_url is not None
        try:
            upgrade(settings.database_url)
            for line in asyncio.run(_seed(settings)):
                log.info("seed: %s", line)
            if settings.leaderboards_offline:
                # Leaderboards from the recorded samples on first start (later starts: only the
                # sources that are due, by the 7-day rule). Online, the weekly job fetches them.
                for line in asyncio.run(_refresh_leaderboards(settings, None, False)):
                    log.info("leaderboards: %s", line)
            asyncio.run(_serve_and_work(settings))
        except KeyboardInterrupt:
            log.info("shutting down")
