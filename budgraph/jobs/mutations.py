"""Mutations that start and cancel background jobs (write scope)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph import db
from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope, JobKind, ModelSource
from budgraph.graphql.context import Info
from budgraph.graphql.lookup import row_to_change
from budgraph.jobs import service
from budgraph.jobs.types import Job
from budgraph.kit.errors import BudgraphError
from budgraph.kit.ids import expect_global_id

ModelIdArgument = Annotated[strawberry.ID, strawberry.argument(description="Global id of the model.")]


async def start(info: Info, model: db.Model, kind: JobKind) -> db.Job:
    if kind is JobKind.EXTRACT and model.source_kind == ModelSource.CLOUD.value:
        raise BudgraphError("cloud models have no files to extract from", field="id")
    job, _ = await service.request_job(info.context.uow, info.context.queue, kind, model, info.context.actor)
    return job


@strawberry.type
class JobMutations:
    @strawberry.mutation(
        description="Extract the model's facts again (config, weights' headers, model card) in the"
        " background. Returns the running job if one is already extracting this model and revision.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def extract_model(self, info: Info, id: ModelIdArgument) -> Job:
        model = await row_to_change(info, db.Model, id)
        return Job.from_row(await start(info, model, JobKind.EXTRACT))

    @strawberry.mutation(
        description="Scan every file of the model with modelscan and ClamAV in the background. Returns the"
        " running job if one is already scanning this model and revision.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def scan_model(self, info: Info, id: ModelIdArgument) -> Job:
        model = await row_to_change(info, db.Model, id)
        if model.source_kind == ModelSource.CLOUD.value:
            raise BudgraphError("cloud models have no files to scan", field="id")
        return Job.from_row(await start(info, model, JobKind.SCAN))

    @strawberry.mutation(
        description="Cancel a queued or running job; a running job stops at its next step.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def cancel_job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The job's global id.")],
    ) -> Job:
        job = await service.cancel(info.context.uow, info.context.queue, expect_global_id(id, "Job"))
        return Job.from_row(job)
