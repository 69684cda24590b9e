"""The reconciler: no job stays queued without an arq job, or running without a live worker.

arq already re-runs a job whose worker died (at-least-once), once the job's in-progress key expires.
This cron covers what arq cannot see: a row committed while Redis was unreachable (so never
enqueued), a queue lost with its Redis, or a worker that died after the row said `running`.
It runs every ``reconcile_interval_seconds``, and at once when a worker sees Redis again after an
outage; a queued row is left alone for ``job_requeue_after_seconds`` (its enqueue may be on its way).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.db.enums import JobStatus
from budgraph.jobs import repository
from budgraph.jobs.queue import JobQueue
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings

log = logging.getLogger("budgraph.workers")


async def reconcile_jobs(ctx: dict[str, Any]) -> dict[str, int]:
    settings: Settings = ctx["settings"]
    sessions: async_sessionmaker[RequestSession] = ctx["sessions"]
    queue: JobQueue = ctx["queue"]
    moment = now()
    running_before = moment - timedelta(seconds=settings.job_timeout_seconds + 60)
    async with UnitOfWork(sessions, actor="reconciler") as uow:
        stale = await repository.stale_jobs(
            uow.session, running_before, moment - timedelta(seconds=settings.job_requeue_after_seconds)
        )
        for job in stale:
            if job.status == JobStatus.RUNNING.value:
                log.warning(
                    "job %s: worker stopped responding during attempt %s; requeued", job.id, job.attempts
                )
                job.status, job.step = JobStatus.QUEUED.value, "requeued"
                job.error = f"attempt {job.attempts} stopped without finishing (worker lost); retrying"
            job.updated_at = moment
        work = [(job.kind, job.id, job.dedupe_key) for job in stale]
    enqueued = 0
    for kind, job_id, key in work:
        enqueued += int(await queue.enqueue(kind, job_id, key))
    if enqueued:
        log.info("reconciler: %d of %d waiting jobs put back on the queue", enqueued, len(work))
    return {"examined": len(work), "enqueued": enqueued}
