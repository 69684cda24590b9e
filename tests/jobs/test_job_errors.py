"""What a failed job tells whoever reads it: the domain's words, never a path, repr or SQL; the
details go to the worker's log once."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from arq import Retry
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.extraction.errors import ExtractionFailed
from budgraph.jobs.failures import public_message
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from budgraph.settings import Settings
from budgraph.storage import StorageError, StorageUnavailable
from tests import factories
from tests.conftest import GraphQLClient
from workers.runner import Finish, JobRun, run_job

JOBS = "{ jobs { nodes { id status error } } }"
INTERNAL = "an internal error stopped the job (details in the worker log, job {id})"
VENV_IMPORT_ERROR = ImportError(
    "cannot import name 'AutoConfig' from 'transformers'"
    " (/srv/budgraph/.venv/lib/python3.11/site-packages/transformers/__init__.py)"
)


async def _job(session: RequestSession) -> db.Job:
    model = await factories.model(session, "budtest/broken")
    job = db.Job(
        kind="extract", model_id=model.id, revision="main", target="budtest/broken@main",
        dedupe_key=f"extract:{model.id}:main", requested_by="test",
    )  # fmt: skip
    session.add(job)
    await session.commit()
    return job


def _raising(error: BaseException) -> Callable[[JobRun], Awaitable[Finish]]:
    async def body(run: JobRun) -> Finish:
        raise error

    return body


async def _run(
    sessions: async_sessionmaker[RequestSession], queue: ArqJobQueue, job: db.Job, error: BaseException
) -> dict[str, Any]:
    ctx = {"settings": Settings(job_max_attempts=1), "sessions": sessions, "queue": queue}
    return await run_job(ctx, job.id, _raising(error))


async def test_an_unexpected_error_shows_no_path_and_is_logged_once(
    session: RequestSession,
    sessions: async_sessionmaker[RequestSession],
    queue: ArqJobQueue,
    client: GraphQLClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    job = await _job(session)

    with caplog.at_level(logging.WARNING, logger="budgraph.workers"):
        result = await _run(sessions, queue, job, VENV_IMPORT_ERROR)

    message = INTERNAL.format(id=job.id)
    assert result == {"failed": message}
    # anonymous readers see the domain sentence...
    nodes = (await client.data(JOBS))["jobs"]["nodes"]
    assert nodes == [{"id": to_global_id("Job", job.id), "status": "FAILED", "error": message}]
    # ...and the log has the details, once, with the traceback
    records = [r for r in caplog.records if r.name == "budgraph.workers"]
    assert [(r.levelname, r.getMessage()) for r in records] == [
        ("ERROR", f"job {job.id} failed unexpectedly")
    ]
    assert records[0].exc_info is not None
    assert "site-packages/transformers" in str(records[0].exc_info[1])


async def test_a_transient_error_is_retried_with_a_sentence(
    session: RequestSession, sessions: async_sessionmaker[RequestSession], queue: ArqJobQueue
) -> None:
    job = await _job(session)
    ctx = {"settings": Settings(job_max_attempts=3), "sessions": sessions, "queue": queue}
    error = StorageUnavailable("http://minio.internal:9000/models: S3 SlowDown")

    with pytest.raises(Retry):
        await run_job(ctx, job.id, _raising(error))

    await session.refresh(job)
    assert (job.status, job.error) == (
        "queued",
        "attempt 1 failed: the object store did not answer; retrying",
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ExtractionFailed("config.json is not a JSON object"), "config.json is not a JSON object"),
        (StorageError("/var/lib/budgraph/objects/7/main/x resolves outside the store root"), None),
        (RedisConnectionError("Error 111 connecting to 10.0.0.3:6379. Connection refused."), None),
        (ConnectionRefusedError(111, "Connect call failed ('10.0.0.4', 5432)"), None),
        (TimeoutError(), None),
        (KeyError("snapshot_id"), None),
        (VENV_IMPORT_ERROR, None),
    ],
)
def test_public_messages_keep_the_domain_and_drop_the_rest(
    error: BaseException, expected: str | None
) -> None:
    message = public_message(error, 7)
    if expected is not None:
        assert message == expected
    for leak in ("/", "10.0.0", "Error", "snapshot_id", "111"):
        assert leak not in message.replace("(details in the worker log, job 7)", "")
