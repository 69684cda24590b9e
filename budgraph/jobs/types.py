"""GraphQL types of background jobs, model files and scan results."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from budgraph import db
from budgraph.db.enums import FileScanStatus, JobKind, JobStatus, Severity
from budgraph.graphql.common import BigInt
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.jobs import loaders
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id

if TYPE_CHECKING:
    from budgraph.models.types import Model


@strawberry.type(
    description="A background job: extracting a model's facts, scanning its files, or refreshing"
    " leaderboards."
)
class Job(Node):
    model_pk: strawberry.Private[int | None]
    kind: JobKind = strawberry.field(description="What the job does.")
    status: JobStatus = strawberry.field(description="Where the job is.")
    progress: int = strawberry.field(description="Percent done, 0-100.")
    step: str = strawberry.field(description="The step being worked on (or the last one).")
    attempts: int = strawberry.field(description="How many times a worker has started the job.")
    error: str | None = strawberry.field(description="Why the job failed, or why the last attempt did.")
    result: JSON | None = strawberry.field(description="What the job produced (a summary), once succeeded.")
    target: str = strawberry.field(
        description="What the job works on, e.g. `org/model@main`, or the leaderboard sources it refreshes."
    )
    revision: str | None = strawberry.field(description="The model revision a model job works on.")
    requested_by: str = strawberry.field(description="The API key name that asked for the job.")
    created_at: datetime = strawberry.field(description="When the job was requested.")
    updated_at: datetime = strawberry.field(description="When the job row last changed.")
    started_at: datetime | None = strawberry.field(description="When a worker first started the job.")
    finished_at: datetime | None = strawberry.field(description="When the job ended.")

    @classmethod
    def from_row(cls, row: db.Job | AnyRow) -> Job:
        return cls(
            id=strawberry.ID(to_global_id("Job", row.id)),
            model_pk=row.model_id,
            kind=JobKind(row.kind),
            status=JobStatus(row.status),
            progress=row.progress,
            step=row.step,
            attempts=row.attempts,
            error=row.error,
            result=JSON(row.result) if row.result is not None else None,
            target=row.target,
            revision=row.revision,
            requested_by=row.requested_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
        )

    @strawberry.field(description="The model a model job works on (null for leaderboard refreshes).")
    async def model(self, info: Info) -> Annotated[Model, strawberry.lazy("budgraph.models.types")] | None:
        from budgraph.models.loaders import ModelByIdLoader
        from budgraph.models.types import Model

        if self.model_pk is None:
            return None
        row = await info.context.loaders.get(ModelByIdLoader).load(self.model_pk)
        return Model.from_row(row) if row else None


@strawberry.input(description="Which jobs to list; all given conditions must hold.")
class JobFilter:
    statuses: list[JobStatus] | None = strawberry.field(
        default=None, description="Only jobs in these states."
    )
    kinds: list[JobKind] | None = strawberry.field(default=None, description="Only jobs of these kinds.")
    model_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only jobs of these models."
    )


@strawberry.type(description="A file of a model revision, kept in the object store.")
class ModelFile:
    path: str = strawberry.field(description="Path inside the model repository.")
    revision: str = strawberry.field(description="The model revision it belongs to.")
    size: BigInt = strawberry.field(description="Size in bytes.")
    sha256: str = strawberry.field(description="SHA-256 of the content, hex.")

    @classmethod
    def from_row(cls, row: db.ModelFile | AnyRow) -> ModelFile:
        return cls(path=row.path, revision=row.revision, size=BigInt(row.size), sha256=row.sha256)


@strawberry.type(description="What one scanner concluded about one file of a model.")
class ScanResult:
    scanner: str = strawberry.field(description="`modelscan` or `clamav`.")
    path: str = strawberry.field(description="The file.")
    status: FileScanStatus = strawberry.field(description="Clean, a finding, not scanned, or an error.")
    severity: Severity | None = strawberry.field(description="How dangerous the finding is.")
    finding: str | None = strawberry.field(description="What was found, e.g. `os.system` in a pickle.")
    detail: str | None = strawberry.field(description="More about the outcome (why not scanned, the error).")

    @classmethod
    def from_row(cls, row: db.ScanResult | AnyRow) -> ScanResult:
        return cls(
            scanner=row.scanner,
            path=row.path,
            status=FileScanStatus(row.status),
            severity=Severity(row.severity) if row.severity else None,
            finding=row.finding,
            detail=row.detail,
        )


register_node("Job", loaders.JobByIdLoader, Job.from_row)
