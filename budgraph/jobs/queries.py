"""Root query fields of background jobs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from budgraph.graphql.context import Info
from budgraph.jobs import loaders, repository
from budgraph.jobs.types import Job, JobFilter
from budgraph.kit.ids import expect_global_id
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    paginate,
)


def job_query(filter: JobFilter | None) -> repository.JobQuery:
    if filter is None:
        return repository.JobQuery()
    return repository.JobQuery(
        statuses=tuple(s.value for s in filter.statuses) if filter.statuses is not None else None,
        kinds=tuple(k.value for k in filter.kinds) if filter.kinds is not None else None,
        model_ids=(
            tuple(expect_global_id(i, "Model") for i in filter.model_ids)
            if filter.model_ids is not None
            else None
        ),
    )


@strawberry.type
class JobQueries:
    @strawberry.field(description="One job by global id; poll it, or subscribe with `jobUpdated`.")
    async def job(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The job's global id.")],
    ) -> Job | None:
        row = await info.context.loaders.get(loaders.JobByIdLoader).load(expect_global_id(id, "Job"))
        return Job.from_row(row) if row else None

    @strawberry.field(description="Jobs, newest first.")
    async def jobs(
        self,
        info: Info,
        filter: Annotated[JobFilter | None, strawberry.argument(description="Which jobs to list.")] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Job]:
        stmt = repository.jobs_statement(job_query(filter))
        return await paginate(info.context.session, stmt, Job.from_row, first, after, last, before)
