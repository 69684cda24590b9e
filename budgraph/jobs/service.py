"""Rules for requesting, cancelling and recording the progress of background jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from budgraph import db
from budgraph.db.enums import JobKind, JobStatus
from budgraph.jobs import repository
from budgraph.jobs.queue import JobQueue
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.unit_of_work import UnitOfWork

TERMINAL = {JobStatus.SUCCEEDED.value, JobStatus.FAILED.value, JobStatus.CANCELLED.value}


def dedupe_key(kind: JobKind, model_id: int, revision: str) -> str:
    return f"{kind.value}:{model_id}:{revision}"


def snapshot(job: db.Job) -> dict[str, Any]:
    """What subscribers are told about a job."""
    return {
        "id": job.id,
        "status": job.status,
        "progress": job.progress,
        "step": job.step,
        "attempts": job.attempts,
        "error": job.error,
    }


async def request_job(
    uow: UnitOfWork, queue: JobQueue, kind: JobKind, model: db.Model, requested_by: str
) -> tuple[db.Job, bool]:
    """The active job for this model and revision, or a new one enqueued after commit.

    Returns the job and whether it was created.
    """
    session = uow.session
    assert isinstance(session, RequestSession)
    key = dedupe_key(kind, model.id, model.revision)
    existing = await repository.active_job(session, key)
    if existing is not None:
        return existing, False
    job = db.Job(
        kind=kind.value,
        model_id=model.id,
        revision=model.revision,
        target=f"{model.uri}@{model.revision}",
        dedupe_key=key,
        requested_by=requested_by,
    )
    try:
        async with session.begin_nested():
            session.add(job)
            await session.flush()
    except IntegrityError:
        # A concurrent request created it first: return that one.
        raced = await repository.active_job(session, key)
        if raced is None:
            raise
        return raced, False
    job_id = job.id

    async def enqueue() -> None:
        await queue.enqueue(kind.value, job_id, key)

    uow.after_commit(enqueue)
    return job, True


async def cancel(uow: UnitOfWork, queue: JobQueue, job_id: int) -> db.Job:
    session = uow.session
    assert isinstance(session, RequestSession)
    job = await repository.job_for_update(session, job_id)
    if job is None:
        raise NotFound("no such job", field="id")
    if job.status in TERMINAL:
        raise BudgraphError(f"the job already ended ({job.status})", field="id")
    job.status = JobStatus.CANCELLED.value
    job.finished_at = now()
    job.step = "cancelled"
    await session.flush()
    payload = snapshot(job)

    async def announce() -> None:
        await queue.publish(job_id, payload)

    uow.after_commit(announce)
    return job
