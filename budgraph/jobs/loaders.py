"""Per-request loaders of jobs, model files and scan results."""

from __future__ import annotations

from sqlalchemy import case, func, select

from budgraph import db
from budgraph.jobs import repository
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader


class JobByIdLoader(RowByIdLoader[db.Job]):
    table = db.Job


class JobPagesByModelLoader(ChildPageLoader[db.Job]):
    """A page of each model's jobs, newest first. Args: page, JobQuery."""

    entity = db.Job

    def statement(self) -> ChildQuery:
        query = self.args[1]
        assert isinstance(query, repository.JobQuery)
        return repository.jobs_statement(query), db.Job.model_id, [db.Job.id.desc()]


class FilePagesByModelLoader(ChildPageLoader[db.ModelFile]):
    """A page of each model's stored files (of its current revision), by path. Args: page."""

    entity = db.ModelFile

    def statement(self) -> ChildQuery:
        current = select(db.Model.revision).where(db.Model.id == db.ModelFile.model_id).scalar_subquery()
        stmt = select(db.ModelFile).where(db.ModelFile.revision == current)
        return stmt, db.ModelFile.model_id, [db.ModelFile.path.asc(), db.ModelFile.id.asc()]


class ScanResultPagesByModelLoader(ChildPageLoader[db.ScanResult]):
    """A page of each model's results from its latest scan, worst first. Args: page."""

    entity = db.ScanResult

    def statement(self) -> ChildQuery:
        latest_per_model = select(func.max(db.ScanResult.job_id)).group_by(db.ScanResult.model_id)
        stmt = select(db.ScanResult).where(db.ScanResult.job_id.in_(latest_per_model))
        worst_first = case({"FINDING": 0, "ERROR": 1, "NOT_SCANNED": 2}, value=db.ScanResult.status, else_=3)
        order = [worst_first, db.ScanResult.path.asc(), db.ScanResult.scanner.asc()]
        return stmt, db.ScanResult.model_id, order
