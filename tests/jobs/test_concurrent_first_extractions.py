"""Eight first extractions at once on a fresh worker process (`budgraph worker --burst`) all succeed.

The first config read of a process imports transformers; several job threads doing it at once used
to fail with "cannot import name 'AutoConfig' from 'transformers'". The worker must be a new process
for the test to mean anything: the test process itself has imported transformers long ago.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from budgraph import db
from budgraph.db.enums import JobKind
from budgraph.jobs.queue import ArqJobQueue
from budgraph.jobs.service import request_job
from budgraph.kit.db import RequestSession, session_factory
from budgraph.kit.unit_of_work import UnitOfWork
from tests.conftest import Servers
from tests.extraction import builders
from tests.extraction.hub_server import RunningServer, hub_server

# Different config classes, so the first reads also race on transformers' lazy per-model imports.
BUILDERS = {
    "llama": builders.write_llama,
    "mixtral": builders.write_mixtral,
    "llava": builders.write_llava,
    "deepseek-v3": builders.write_deepseek_v3,
}
URIS = [f"budtest/first-{name}-{copy}" for name in BUILDERS for copy in (1, 2)]


@pytest.fixture
def first_hub(tmp_path: Path) -> Iterator[RunningServer]:
    folders = {name: build(tmp_path / name) for name, build in BUILDERS.items()}
    with hub_server() as server:
        for uri in URIS:
            name = uri.removeprefix("budtest/first-").rsplit("-", 1)[0]
            server.state.add_repo(uri, folders[name])
        yield server


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[RequestSession]]:
    """Sessions that commit for real (the worker process must see the rows); cleaned up after."""
    sessions = session_factory(engine)
    yield sessions
    async with sessions() as session:
        await session.execute(delete(db.Model).where(db.Model.uri.in_(URIS)))
        await session.execute(delete(db.ChangeLogEntry))
        await session.execute(update(db.RegistryState).values(version=0))
        await session.commit()


@pytest.mark.slow
async def test_eight_concurrent_first_extractions_on_a_fresh_worker_all_succeed(
    committed: async_sessionmaker[RequestSession],
    servers: Servers,
    database_url: str,
    first_hub: RunningServer,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex
    queue = ArqJobQueue(servers.redis_url, queue_name=f"budgraph:test:{run}", job_id_prefix=f"first-{run}:")
    async with UnitOfWork(committed, actor="test") as uow:
        for uri in URIS:
            model = db.Model(uri=uri, source_kind="huggingface", revision="main")
            uow.session.add(model)
            await uow.session.flush()
            await request_job(uow, queue, JobKind.EXTRACT, model, "test")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BUDGRAPH_")},
        "BUDGRAPH_DATABASE_URL": database_url,
        "BUDGRAPH_REDIS_URL": servers.redis_url,
        "BUDGRAPH_QUEUE_NAME": queue.queue_name,
        "BUDGRAPH_HF_ENDPOINT": first_hub.url,
        "BUDGRAPH_OBJECTS_DIR": str(tmp_path / "objects"),
        "BUDGRAPH_LEADERBOARD_SCHEDULER": "dapr",
    }
    # A new interpreter: transformers is imported for the first time by the jobs themselves.
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "budgraph", "worker", "--burst", env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _, log = await asyncio.wait_for(worker.communicate(), timeout=240)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        await queue.close()

    async with committed() as session:
        jobs = (await session.scalars(select(db.Job).join(db.Model).where(db.Model.uri.in_(URIS)))).all()
        models = (await session.scalars(select(db.Model).where(db.Model.uri.in_(URIS)))).all()
    outcomes = {(job.status, job.attempts, job.error) for job in jobs}
    assert outcomes == {("succeeded", 1, None)}, log.decode(errors="replace")[-4000:]
    assert len(jobs) == 8
    assert sorted((m.uri, m.status) for m in models) == [(uri, "ready") for uri in sorted(URIS)]
    assert all(model.architecture for model in models)
