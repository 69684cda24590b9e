"""Running one job: status, progress and heartbeat in the job row, retries, and one final transaction.

A job body computes without writing and returns a ``Finish``: the writes to make, applied in the
same transaction that marks the job succeeded. A worker killed mid-job therefore leaves no
half-written model, and arq (at-least-once) or the reconciler runs the job again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from arq import Retry
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.db.enums import JobStatus
from budgraph.jobs import repository
from budgraph.jobs.failures import (
    JobCancelled,
    backoff_seconds,
    is_expected,
    is_transient,
    public_message,
)
from budgraph.jobs.queue import JobQueue
from budgraph.jobs.service import TERMINAL, snapshot
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings
from workers.outages import database_reachable

log = logging.getLogger("budgraph.workers")

Finish = Callable[[RequestSession, db.Job], Awaitable[dict[str, Any]]]


@dataclass
class JobRun:
    """What a job body gets: its job and model, settings, and a way to report progress."""

    job_id: int
    kind: str
    model_id: int | None
    revision: str | None
    params: dict[str, Any]
    attempt: int
    settings: Settings
    sessions: async_sessionmaker[RequestSession]
    queue: JobQueue

    @property
    def actor(self) -> str:
        return f"worker:{self.kind}"

    def unit_of_work(self) -> UnitOfWork:
        """A transaction of this job's own (each step of a job commits on its own)."""
        return UnitOfWork(self.sessions, actor=self.actor)

    def announce(self, uow: UnitOfWork, payload: dict[str, Any]) -> None:
        """Tell subscribers about the job once ``uow`` has committed."""

        async def publish() -> None:
            await self.queue.publish(self.job_id, payload)

        uow.after_commit(publish)

    async def progress(self, percent: int, step: str) -> None:
        """Record progress (and a heartbeat) in its own short transaction; stop if cancelled."""
        async with self.unit_of_work() as uow:
            job = await repository.job_for_update(uow.session, self.job_id)
            if job is None or job.status == JobStatus.CANCELLED.value:
                raise JobCancelled
            job.progress, job.step, job.heartbeat_at = max(0, min(100, percent)), step, now()
            self.announce(uow, snapshot(job))


Body = Callable[[JobRun], Awaitable[Finish]]
# Writes that go with a job's final failure, in the same transaction (the job row is locked).
OnFailure = Callable[[RequestSession, db.Job, str], Awaitable[None]]


async def _set(run: JobRun, **values: Any) -> None:
    """Update the job row unless it was cancelled meanwhile."""
    async with run.unit_of_work() as uow:
        job = await repository.job_for_update(uow.session, run.job_id)
        if job is None or job.status == JobStatus.CANCELLED.value:
            return
        for name, value in values.items():
            setattr(job, name, value)
        run.announce(uow, snapshot(job))


async def run_job(
    ctx: dict[str, Any], job_id: int, body: Body, on_failure: OnFailure | None = None
) -> dict[str, Any]:
    settings: Settings = ctx["settings"]
    sessions: async_sessionmaker[RequestSession] = ctx["sessions"]
    try:
        return await _run(settings, sessions, ctx["queue"], job_id, body, on_failure)
    except (Retry, JobCancelled):
        raise
    except Exception as error:
        if await database_reachable(sessions):
            raise
        # The database went away: whatever the job got to, it is tried again (the row, if it was
        # written at all, still says queued or running, so nothing is lost or finished twice).
        log.warning("job %s: the database is unreachable (%s); retrying", job_id, type(error).__name__)
        raise Retry(defer=settings.job_retry_base_seconds) from error


async def _run(
    settings: Settings,
    sessions: async_sessionmaker[RequestSession],
    queue: JobQueue,
    job_id: int,
    body: Body,
    on_failure: OnFailure | None,
) -> dict[str, Any]:
    async with UnitOfWork(sessions, actor="worker") as uow:
        job = await repository.job_for_update(uow.session, job_id)
        if job is None or job.status in TERMINAL:
            return {"skipped": job.status if job else "missing"}
        # Counted on the row, so attempts survive re-enqueueing by the reconciler.
        attempt = job.attempts + 1
        run = JobRun(
            job_id,
            job.kind,
            job.model_id,
            job.revision,
            dict(job.params),
            attempt,
            settings,
            sessions,
            queue,
        )
        job.status, job.attempts, job.step, job.error = JobStatus.RUNNING.value, attempt, "starting", None
        job.started_at = job.started_at or now()
        job.heartbeat_at = now()
        run.announce(uow, snapshot(job))
    try:
        finish = await body(run)
        return await _finish(run, finish)
    except JobCancelled:
        return {"cancelled": True}
    except Retry:
        raise
    except Exception as error:
        message = public_message(error, job_id)
        if not is_transient(error) and not await database_reachable(sessions):
            raise  # an outage, not the job's failure: run_job retries it
        if is_transient(error) and attempt < settings.job_max_attempts:
            delay = backoff_seconds(attempt, settings.job_retry_base_seconds)
            log.warning(
                "job %s attempt %s failed, retrying in %ss: %s", job_id, attempt, delay, _detail(error)
            )
            await _set(
                run,
                status=JobStatus.QUEUED.value,
                step="waiting to retry",
                error=f"attempt {attempt} failed: {message}; retrying",
            )
            raise Retry(defer=delay) from error
        if not is_expected(error):
            log.exception("job %s failed unexpectedly", job_id)  # the traceback, once: never retried
        elif message != str(error):
            log.warning("job %s failed: %s", job_id, _detail(error))
        await _fail(run, message, on_failure)
        return {"failed": message}


def _detail(error: BaseException) -> str:
    """The whole story for the log: the exception and what caused it."""
    cause = error.__cause__ or error.__context__
    text = f"{type(error).__name__}: {error}"
    return f"{text} (caused by {type(cause).__name__}: {cause})" if cause is not None else text


async def _fail(run: JobRun, message: str, on_failure: OnFailure | None) -> None:
    """Mark the job failed (unless cancelled meanwhile), with the body's own writes for a failure."""
    async with run.unit_of_work() as uow:
        job = await repository.job_for_update(uow.session, run.job_id)
        if job is None or job.status == JobStatus.CANCELLED.value:
            return
        job.status, job.step, job.error, job.finished_at = JobStatus.FAILED.value, "failed", message, now()
        if on_failure is not None:
            await on_failure(uow.session, job, message)
        run.announce(uow, snapshot(job))


async def _finish(run: JobRun, finish: Finish) -> dict[str, Any]:
    """The job's writes and its success, in one transaction."""
    async with run.unit_of_work() as uow:
        job = await repository.job_for_update(uow.session, run.job_id)
        if job is None or job.status == JobStatus.CANCELLED.value:
            raise JobCancelled
        if job.status in TERMINAL:  # another run of it (at-least-once) finished first: finish once
            return {"skipped": job.status}
        result = await finish(uow.session, job)
        job.status, job.progress, job.step = JobStatus.SUCCEEDED.value, 100, "done"
        job.result, job.finished_at, job.heartbeat_at, job.error = result, now(), now(), None
        run.announce(uow, snapshot(job))
    return result
