"""Mutations that register models and start their extraction (write scope)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.db.enums import ApiKeyScope, JobKind, ModelSource
from budgraph.graphql.context import Info
from budgraph.jobs import service as jobs
from budgraph.jobs.types import Job
from budgraph.models import service
from budgraph.models.types import Model


@strawberry.input(description="A model to register: where its files are, and which revision.")
class RegisterModelInput:
    uri: str = strawberry.field(description="`org/name` on the Hub, or an http(s) URL of a folder of files.")
    source: ModelSource = strawberry.field(
        default=ModelSource.HUGGINGFACE, description="Where the files are (HUGGINGFACE or URL)."
    )
    revision: str = strawberry.field(default="main", description="Branch, tag or commit.")


@strawberry.type(description="A registered model and the extraction job finding out what it is.")
class RegisterModelPayload:
    model: Model = strawberry.field(description="The model (new, or the one already registered).")
    job: Job = strawberry.field(description="The extraction job (the running one, if there is one).")


@strawberry.type
class ModelMutations:
    @strawberry.mutation(
        description="Register a model and extract its facts in the background. Registering the same model"
        " and revision again while its extraction runs returns the running job."
    )
    async def register_model(
        self, info: Info, input: Annotated[RegisterModelInput, strawberry.argument(description="The model.")]
    ) -> RegisterModelPayload:
        principal = info.context.require(ApiKeyScope.WRITE)
        model = await service.register(
            info.context.session, input.uri, ModelSource(input.source), input.revision
        )
        job, _ = await jobs.request_job(
            info.context.uow, info.context.queue, JobKind.EXTRACT, model, principal.key_name
        )
        return RegisterModelPayload(model=Model.from_row(model), job=Job.from_row(job))
