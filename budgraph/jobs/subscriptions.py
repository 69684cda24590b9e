"""`jobUpdated`: a job's progress, streamed across processes through Redis pub/sub."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry

from budgraph.graphql.context import Info
from budgraph.jobs import repository
from budgraph.jobs.queue import ArqJobQueue, channel
from budgraph.jobs.service import TERMINAL
from budgraph.jobs.types import Job
from budgraph.kit.errors import NotFound
from budgraph.kit.ids import expect_global_id


async def _current(info: Info, job_id: int) -> Job:
    # The operation's session; the WebSocket handler ends its transaction after each event.
    row = await repository.job_by_id(info.context.session, job_id)
    if row is None:
        raise NotFound("no such job", field="id")
    return Job.from_row(row)


@strawberry.type
class JobSubscriptions:
    @strawberry.subscription(
        description="The job now, then again each time its status or progress changes, until it ends."
        " Works across API replicas and workers (Redis pub/sub); polling `job(id:)` works too."
    )
    async def job_updated(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The job's global id.")],
    ) -> AsyncGenerator[Job, None]:
        job_id = expect_global_id(id, "Job")
        queue = info.context.queue
        assert isinstance(queue, ArqJobQueue)
        pubsub = (await queue.pool()).pubsub()
        # Subscribe before reading the row, so no update falls between the two.
        await pubsub.subscribe(channel(queue.queue_name, job_id))
        try:
            job = await _current(info, job_id)
            yield job
            while job.status.value not in TERMINAL:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=30.0)
                if message is None:
                    continue
                job = await _current(info, job_id)
                yield job
        finally:
            await pubsub.unsubscribe(channel(queue.queue_name, job_id))
            await pubsub.aclose()  # type: ignore[no-untyped-call]
