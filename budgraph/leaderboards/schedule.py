"""Requesting leaderboard refreshes: weekly (one job per ISO week, whoever fires) or on demand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from budgraph import db
from budgraph.db.enums import JobKind, JobStatus
from budgraph.jobs.queue import JobQueue
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork

REFRESH_DEDUPE_PREFIX = "leaderboards"


def week_key(moment: datetime) -> str:
    """The ISO week of ``moment``, e.g. ``leaderboards:2026-W48``: the weekly job's dedupe key."""
    year, week, _ = moment.isocalendar()
    return f"{REFRESH_DEDUPE_PREFIX}:{year}-W{week:02d}"


def manual_key(sources: list[str] | None, force: bool) -> str:
    names = ",".join(sorted(sources)) if sources else "all"
    return f"{REFRESH_DEDUPE_PREFIX}:manual:{names}:{'force' if force else 'due'}"


async def _latest(session: RequestSession, key: str) -> db.Job | None:
    row: db.Job | None = await session.scalar(
        select(db.Job).where(db.Job.dedupe_key == key).order_by(db.Job.id.desc()).limit(1)
    )
    return row


async def request_refresh(
    uow: UnitOfWork,
    queue: JobQueue,
    key: str,
    requested_by: str,
    sources: list[str] | None = None,
    force: bool = False,
    once: bool = False,
) -> tuple[db.Job, bool]:
    """The refresh job for ``key``: an active one if there is one, else a new one enqueued after commit.

    With ``once`` (the weekly key) a job that already succeeded for the key is returned too, so a
    second cron delivery in the same week, from another replica or a retry, runs nothing.
    """
    session = uow.session
    assert isinstance(session, RequestSession)
    latest = await _latest(session, key)
    reusable = {JobStatus.QUEUED.value, JobStatus.RUNNING.value} | (
        {JobStatus.SUCCEEDED.value} if once else set()
    )
    if latest is not None and latest.status in reusable:
        return latest, False
    job = db.Job(
        kind=JobKind.LEADERBOARD_REFRESH.value,
        target=",".join(sorted(sources)) if sources else "all sources",
        dedupe_key=key,
        requested_by=requested_by,
        params={"sources": sorted(sources) if sources else None, "force": force},
    )
    try:
        async with session.begin_nested():
            session.add(job)
            await session.flush()
    except IntegrityError:
        raced = await _latest(session, key)
        if raced is None:
            raise
        return raced, False
    job_id = job.id

    async def enqueue() -> None:
        await queue.enqueue(JobKind.LEADERBOARD_REFRESH.value, job_id, key)

    uow.after_commit(enqueue)
    return job, True
