"""SQL for jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select

from budgraph import db
from budgraph.db.enums import ACTIVE_JOB_STATUSES, JobStatus
from budgraph.kit.db import RequestSession


@dataclass(frozen=True)
class JobQuery:
    statuses: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    model_ids: tuple[int, ...] | None = None


def jobs_statement(query: JobQuery) -> Select[Any]:
    """Jobs, filtered, newest first."""
    stmt = select(db.Job)
    if query.statuses is not None:
        stmt = stmt.where(db.Job.status.in_(query.statuses))
    if query.kinds is not None:
        stmt = stmt.where(db.Job.kind.in_(query.kinds))
    if query.model_ids is not None:
        stmt = stmt.where(db.Job.model_id.in_(query.model_ids))
    return stmt.order_by(db.Job.id.desc())


def files_of_models_statement() -> Select[Any]:
    """Each model's stored files of its current revision (parent: ``model_id``), by path."""
    current = select(db.Model.revision).where(db.Model.id == db.ModelFile.model_id).scalar_subquery()
    stmt = select(db.ModelFile).where(db.ModelFile.revision == current)
    return stmt.order_by(db.ModelFile.path.asc(), db.ModelFile.id.asc())


def latest_scan_results_statement() -> Select[Any]:
    """Each model's results of its latest scan (parent: ``model_id``), worst first."""
    latest_per_model = select(func.max(db.ScanResult.job_id)).group_by(db.ScanResult.model_id)
    stmt = select(db.ScanResult).where(db.ScanResult.job_id.in_(latest_per_model))
    worst_first = case({"FINDING": 0, "ERROR": 1, "NOT_SCANNED": 2}, value=db.ScanResult.status, else_=3)
    return stmt.order_by(worst_first, db.ScanResult.path.asc(), db.ScanResult.scanner.asc())


async def active_job(session: RequestSession, dedupe_key: str) -> db.Job | None:
    result: db.Job | None = await session.scalar(
        select(db.Job).where(
            db.Job.dedupe_key == dedupe_key, db.Job.status.in_([s.value for s in ACTIVE_JOB_STATUSES])
        )
    )
    return result


async def job_by_id(session: RequestSession, job_id: int) -> db.Job | None:
    """The job row as it is now (no lock, no identity-map copy)."""
    result: db.Job | None = await session.scalar(
        select(db.Job).where(db.Job.id == job_id).execution_options(populate_existing=True)
    )
    return result


async def job_for_update(session: RequestSession, job_id: int) -> db.Job | None:
    """The job row, locked until the end of the transaction (workers and cancelJob race on it)."""
    result: db.Job | None = await session.scalar(select(db.Job).where(db.Job.id == job_id).with_for_update())
    return result


async def stale_jobs(
    session: RequestSession, running_before: datetime, queued_before: datetime
) -> list[db.Job]:
    """Running jobs whose worker stopped beating, and queued jobs that waited too long."""
    rows = await session.scalars(
        select(db.Job)
        .where(
            ((db.Job.status == JobStatus.RUNNING.value) & (db.Job.heartbeat_at < running_before))
            | ((db.Job.status == JobStatus.QUEUED.value) & (db.Job.updated_at < queued_before))
        )
        .order_by(db.Job.id)
        .limit(500)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())
