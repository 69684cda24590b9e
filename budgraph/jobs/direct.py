"""The tables jobs, stored files and scan results are compiled from (budgraph/graphql/compiled.py),
and the nested lists of a model that hold them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select

from budgraph import db
from budgraph.graphql.compiled import TableShape, ToMany
from budgraph.jobs import repository
from budgraph.kit.child_pages import ParentKey

JOB_SHAPE = TableShape("Job", db.Job)
MODEL_FILE_SHAPE = TableShape("ModelFile", db.ModelFile)
SCAN_RESULT_SHAPE = TableShape("ScanResult", db.ScanResult)


def _jobs(arguments: Mapping[str, Any]) -> tuple[Select[Any], ParentKey]:
    return repository.jobs_statement(repository.JobQuery()), db.Job.model_id


def _files(arguments: Mapping[str, Any]) -> tuple[Select[Any], ParentKey]:
    return repository.files_of_models_statement(), db.ModelFile.model_id


def _scan_results(arguments: Mapping[str, Any]) -> tuple[Select[Any], ParentKey]:
    return repository.latest_scan_results_statement(), db.ScanResult.model_id


JOBS_OF_MODEL = ToMany("Job", _jobs, "id")
FILES_OF_MODEL = ToMany("ModelFile", _files, "id")
SCAN_RESULTS_OF_MODEL = ToMany("ScanResult", _scan_results, "id")
