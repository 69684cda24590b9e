"""Mutations that register models and start their extraction (write scope)."""

from __future__ import annotations

from typing import Annotated, cast

import strawberry
from strawberry.file_uploads import Upload

from budgraph.auth.permissions import needs
from budgraph.db.enums import ApiKeyScope, JobKind, ModelSource
from budgraph.graphql.context import Info
from budgraph.jobs import service as jobs
from budgraph.jobs.types import Job
from budgraph.models import service, uploads
from budgraph.models.types import Model
from budgraph.storage.archive_types import ArchiveLimits


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
        " and revision again while its extraction runs returns the running job.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def register_model(
        self, info: Info, input: Annotated[RegisterModelInput, strawberry.argument(description="The model.")]
    ) -> RegisterModelPayload:
        model = await service.register(
            info.context.session, input.uri, ModelSource(input.source), input.revision
        )
        job, _ = await jobs.request_job(
            info.context.uow, info.context.queue, JobKind.EXTRACT, model, info.context.actor
        )
        return RegisterModelPayload(model=Model.from_row(model), job=Job.from_row(job))

    @strawberry.mutation(
        description="Upload a tar or zip of a model's files (GraphQL multipart request), keep them in the"
        " object store, and extract the model's facts from them in the background. Archives with path"
        " traversal, links, special files or suspicious compression are refused.",
        extensions=needs(ApiKeyScope.WRITE),
    )
    async def upload_model_archive(
        self,
        info: Info,
        file: Annotated[
            Upload, strawberry.argument(description="The archive (.tar, .tar.gz, .tar.xz, .zip).")
        ],
        uri: Annotated[str, strawberry.argument(description="A name for the model, `org/name`.")],
        revision: Annotated[str, strawberry.argument(description="A revision label.")] = "main",
    ) -> RegisterModelPayload:
        context = info.context
        # With the ASGI integration an Upload is Starlette's UploadFile.
        received = cast("uploads.UploadedFile", file)
        settings = context.settings
        limits = ArchiveLimits(
            max_files=settings.archive_max_files,
            max_file_bytes=settings.archive_max_file_bytes,
            max_total_bytes=settings.archive_max_unpacked_bytes,
        )
        model = await uploads.store_archive(
            context.session, context.store, received, uri, revision, settings.upload_max_bytes, limits
        )
        job, _ = await jobs.request_job(
            context.uow, context.queue, JobKind.EXTRACT, model, info.context.actor
        )
        return RegisterModelPayload(model=Model.from_row(model), job=Job.from_row(job))
