"""Per-request loaders of jobs, model files and scan results."""

from __future__ import annotations

from budgraph import db
from budgraph.jobs import repository
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader


class JobByIdLoader(RowByIdLoader[db.Job]):
    table = db.Job


class JobPagesByModelLoader(ChildPageLoader[repository.JobQuery]):
    """A page of each model's jobs, newest first."""

    def statement(self) -> ChildQuery:
        return repository.jobs_statement(self.query), db.Job.model_id


def all_jobs() -> repository.JobQuery:
    """The query of a model's jobs: all of them (the parent is the filter)."""
    return repository.JobQuery()


class FilePagesByModelLoader(ChildPageLoader[None]):
    """A page of each model's stored files (of its current revision), by path."""

    def statement(self) -> ChildQuery:
        return repository.files_of_models_statement(), db.ModelFile.model_id


class ScanResultPagesByModelLoader(ChildPageLoader[None]):
    """A page of each model's results from its latest scan, worst first."""

    def statement(self) -> ChildQuery:
        return repository.latest_scan_results_statement(), db.ScanResult.model_id
