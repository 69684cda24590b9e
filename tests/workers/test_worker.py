"""A real arq worker in burst mode, on real Redis, runs the registry reseed job."""

from __future__ import annotations

import uuid
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings
from arq.worker import Worker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.kit.db import RequestSession
from tests.conftest import Servers
from workers.jobs import reseed_registry


async def test_reseed_job_in_a_burst_worker(
    servers: Servers, sessions: async_sessionmaker[RequestSession], session: RequestSession
) -> None:
    queue = f"budgraph:test:{uuid.uuid4().hex}"
    redis_settings = RedisSettings.from_dsn(servers.redis_url)
    pool = await create_pool(redis_settings, default_queue_name=queue)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["sessions"] = sessions

    job_id = f"reseed-{uuid.uuid4().hex}"
    try:
        first = await pool.enqueue_job("reseed_registry", _job_id=job_id)
        duplicate = await pool.enqueue_job("reseed_registry", _job_id=job_id)
        assert first is not None
        assert duplicate is None
        worker = Worker(
            functions=[reseed_registry],
            redis_settings=redis_settings,
            queue_name=queue,
            burst=True,
            on_startup=startup,
            handle_signals=False,
            poll_delay=0.05,
        )
        await worker.async_run()
        assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
        result = await first.result(timeout=5)
        assert result["registry_version"] == 1
        assert result["created"]["ModelArchitecture"] == 600  # 361 listed, 239 more from shipped releases
        await worker.close()
    finally:
        await pool.delete(
            queue, *(f"arq:{kind}:{job_id}" for kind in ("job", "result", "in-progress", "retry"))
        )
        await pool.aclose()
    count = await session.scalar(select(func.count()).select_from(db.ModelArchitecture))
    assert count == 600
