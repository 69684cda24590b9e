"""Nothing lost when a worker dies or Redis drops a job: the reconciler requeues, a worker finishes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.settings import Settings
from tests.conftest import GraphQLClient
from tests.jobs.conftest import RunWorker
from workers.reconcile import reconcile_jobs

REGISTER = 'mutation { registerModel(input: {uri: "budtest/tiny-llama"}) { job { id } } }'
CANCEL = "mutation ($id: ID!) { cancelJob(id: $id) { status } }"


async def _forget_queue(queue: ArqJobQueue) -> None:
    """What a Redis restart without persistence does to the queue."""
    pool = await queue.pool()
    keys = [key async for key in pool.scan_iter(f"arq:job:{queue.job_id_prefix}*")]
    await pool.delete(queue.queue_name, *keys)


async def _reconcile(
    sessions: async_sessionmaker[RequestSession], queue: ArqJobQueue, settings: Settings
) -> dict[str, int]:
    ctx: dict[str, Any] = {"settings": settings, "sessions": sessions, "queue": queue}
    return await reconcile_jobs(ctx)


async def test_a_job_whose_worker_died_is_run_again(
    session: RequestSession,
    sessions: async_sessionmaker[RequestSession],
    client: GraphQLClient,
    writer_token: str,
    queue: ArqJobQueue,
    run_worker: RunWorker,
    job_settings: Settings,
) -> None:
    await client.data(REGISTER, token=writer_token)
    # a worker took the job, then died mid-way; its queue entry is gone too
    await session.execute(
        update(db.Job).values(
            status="running",
            attempts=1,
            step="reading config.json",
            progress=10,
            heartbeat_at=now() - timedelta(hours=2),
        )
    )
    await session.commit()
    await _forget_queue(queue)

    assert await _reconcile(sessions, queue, job_settings) == {"examined": 1, "enqueued": 1}
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert (job.status, job.step) == ("queued", "requeued")
    assert "stopped without finishing" in (job.error or "")

    worker = await run_worker()
    assert worker.jobs_complete == 1
    await session.refresh(job)
    assert (job.status, job.attempts, job.error) == ("succeeded", 2, None)


async def test_a_job_never_enqueued_is_enqueued(
    session: RequestSession,
    sessions: async_sessionmaker[RequestSession],
    client: GraphQLClient,
    writer_token: str,
    queue: ArqJobQueue,
    run_worker: RunWorker,
    job_settings: Settings,
) -> None:
    await client.data(REGISTER, token=writer_token)
    await _forget_queue(queue)  # as if Redis was down when the request committed
    # fresh queued jobs are left alone for a minute (their enqueue may still be on its way)
    assert await _reconcile(sessions, queue, job_settings) == {"examined": 0, "enqueued": 0}
    await session.execute(update(db.Job).values(updated_at=now() - timedelta(minutes=5)))
    await session.commit()
    assert await _reconcile(sessions, queue, job_settings) == {"examined": 1, "enqueued": 1}
    # enqueueing twice is harmless: arq refuses the same job id
    await session.execute(update(db.Job).values(updated_at=now() - timedelta(minutes=5)))
    await session.commit()
    assert await _reconcile(sessions, queue, job_settings) == {"examined": 1, "enqueued": 0}
    worker = await run_worker()
    assert worker.jobs_complete == 1
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert job.status == "succeeded"


async def test_a_cancelled_job_is_not_run(
    session: RequestSession, client: GraphQLClient, writer_token: str, run_worker: RunWorker
) -> None:
    job_id = (await client.data(REGISTER, token=writer_token))["registerModel"]["job"]["id"]
    await client.data(CANCEL, {"id": job_id}, token=writer_token)
    await run_worker()
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert (job.status, job.attempts, job.started_at) == ("cancelled", 0, None)
    model = (await session.scalars(select(db.Model))).one()
    await session.refresh(model)
    assert model.parameter_count is None
