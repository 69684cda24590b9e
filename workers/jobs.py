"""Jobs run by the arq worker. Each is safe to run twice; its writes land in one transaction."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from budgraph import db
from budgraph.extraction import extract
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.leaderboards.refresh import refresh
from budgraph.leaderboards.schedule import request_refresh, week_key
from budgraph.models.facts import apply_facts, record_extraction_failure
from budgraph.scanning import scan_files
from budgraph.seeds.service import seed
from budgraph.storage import ObjectStore
from workers.runner import Finish, JobRun, run_job
from workers.sources import materialise_all, model_files

log = logging.getLogger("budgraph.workers")


async def reseed_registry(ctx: dict[str, Any]) -> dict[str, Any]:
    """Apply the seed files (idempotent: operator edits are kept, a second run changes nothing)."""
    async with UnitOfWork(ctx["sessions"], actor="worker:seed") as uow:
        report = await seed(uow.session)
    version = uow.version
    log.info("reseed done: %s", "; ".join(report.lines()) or "no changes")
    return {"registry_version": version, "created": dict(report.created), "updated": dict(report.updated)}


async def _model(run: JobRun) -> db.Model:
    assert run.model_id is not None
    assert run.revision is not None
    async with run.unit_of_work() as uow:
        model: db.Model | None = await uow.session.get(db.Model, run.model_id)
        assert model is not None
        uow.session.expunge(model)
    model.revision = run.revision
    return model


async def _extract(run: JobRun, store: ObjectStore) -> Finish:
    model = await _model(run)

    async def progress(percent: int, step: str) -> None:
        await run.progress(5 + percent * 90 // 100, step)

    with tempfile.TemporaryDirectory(prefix="budgraph-extract-") as workdir:
        async with model_files(model, run.settings, store, Path(workdir)) as files:
            facts = await extract(files, progress)

    async def finish(session: RequestSession, job: db.Job) -> dict[str, Any]:
        row = await session.get(db.Model, run.model_id, with_for_update=True)
        assert row is not None
        summary = await apply_facts(session, row, facts)
        serving = await session.scalar(
            select(func.count())
            .select_from(db.CompatibilityEdge)
            .join(db.ModelArchitecture, db.ModelArchitecture.id == db.CompatibilityEdge.architecture_id)
            .where(db.ModelArchitecture.class_name == row.architecture)
        )
        return {**summary, "compatible_engine_versions": int(serving or 0)}

    return finish


async def _scan(run: JobRun, store: ObjectStore) -> Finish:
    model = await _model(run)
    await run.progress(2, "fetching files")
    with tempfile.TemporaryDirectory(prefix="budgraph-scan-") as workdir:
        root = Path(workdir)
        paths = await materialise_all(model, run.settings, store, root)
        done = 0

        async def progress(_: int, path: str) -> None:
            nonlocal done
            done += 1
            await run.progress(10 + 85 * done // max(1, len(paths)), f"scanned {path}")

        report = await scan_files(root, paths, run.settings.clamd_address, progress)

    async def finish(session: RequestSession, job: db.Job) -> dict[str, Any]:
        row = await session.get(db.Model, run.model_id, with_for_update=True)
        assert row is not None
        session.add_all(
            db.ScanResult(
                model_id=row.id,
                job_id=job.id,
                scanner=outcome.scanner,
                path=outcome.path,
                status=outcome.status.value,
                severity=outcome.severity.value if outcome.severity else None,
                finding=outcome.finding,
                detail=outcome.detail,
            )
            for outcome in report.outcomes
        )
        row.scan_status, row.scanned_at = report.summary.value, now()
        findings = [o for o in report.outcomes if o.finding]
        return {
            "summary": report.summary.value,
            "files": len(paths),
            "findings": [f"{o.scanner}: {o.path}: {o.finding}" for o in findings],
            "scanners": report.scanner_versions,
        }

    return finish


async def _refresh(run: JobRun) -> Finish:
    sources = run.params.get("sources")
    outcomes = await refresh(
        run.sessions,
        run.settings,
        sources,
        force=bool(run.params.get("force")),
        offline=run.settings.leaderboards_offline,
        job_id=run.job_id,
        progress=run.progress,
    )

    async def finish(session: RequestSession, job: db.Job) -> dict[str, Any]:
        return {"sources": [asdict(outcome) for outcome in outcomes]}

    return finish


async def refresh_leaderboards(ctx: dict[str, Any], job_id: int) -> dict[str, Any]:
    """Refresh leaderboard sources (each on its own: one failing source does not stop the others)."""
    return await run_job(ctx, job_id, _refresh)


async def weekly_leaderboard_refresh(ctx: dict[str, Any]) -> dict[str, Any]:
    """The arq cron twin of the Dapr binding: enqueue this ISO week's refresh (once per week)."""
    async with UnitOfWork(ctx["sessions"], actor="arq:cron") as uow:
        job, created = await request_refresh(uow, ctx["queue"], week_key(now()), "arq:cron", once=True)
    return {"job_id": job.id, "created": created}


async def _extraction_failed(session: RequestSession, job: db.Job, message: str) -> None:
    """The model says its extraction failed, and why (unless it has moved on to another revision)."""
    row = await session.get(db.Model, job.model_id, with_for_update=True)
    if row is not None and row.revision == job.revision:
        record_extraction_failure(row, message)


async def extract_model(ctx: dict[str, Any], job_id: int) -> dict[str, Any]:
    return await run_job(ctx, job_id, lambda run: _extract(run, ctx["store"]), _extraction_failed)


async def scan_model(ctx: dict[str, Any], job_id: int) -> dict[str, Any]:
    return await run_job(ctx, job_id, lambda run: _scan(run, ctx["store"]))
