"""SQL for readiness: the jobs waiting in PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text

from budgraph import db
from budgraph.db.enums import JobStatus
from budgraph.kit.db import RequestSession


@dataclass(frozen=True)
class WaitingJobs:
    count: int
    oldest_update: datetime | None


async def ping(session: RequestSession) -> None:
    await session.execute(text("SELECT 1"))


async def waiting_jobs(session: RequestSession) -> WaitingJobs:
    """Jobs whose rows say queued (on the arq queue, waiting to retry, or never enqueued)."""
    row = (
        await session.execute(
            select(func.count(), func.min(db.Job.updated_at)).where(db.Job.status == JobStatus.QUEUED.value)
        )
    ).one()
    return WaitingJobs(int(row[0]), row[1])
