"""A worker killed (SIGKILL) in the middle of a job: the job is run again by the next worker, never
left `running`, and the model is never half-written. Real worker processes (`budgraph worker`)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
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
from tests.extraction.hub_server import RunningServer

URI = "budtest/tiny-llama"


@pytest.fixture
async def committed_sessions(engine: AsyncEngine) -> AsyncIterator[async_sessionmaker[RequestSession]]:
    """Sessions that commit for real (worker processes must see the rows); cleaned up after."""
    sessions = session_factory(engine)
    yield sessions
    async with sessions() as session:
        await session.execute(delete(db.Model).where(db.Model.uri == URI))
        await session.execute(delete(db.ChangeLogEntry))
        await session.execute(update(db.RegistryState).values(version=0))
        await session.commit()


def _worker(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "budgraph", "worker", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def _job(sessions: async_sessionmaker[RequestSession], job_id: int) -> db.Job:
    async with sessions() as session:
        job = await session.get(db.Job, job_id)
        assert job is not None
        return job


@pytest.mark.slow
async def test_a_killed_worker_leaves_a_job_that_is_retried(
    committed_sessions: async_sessionmaker[RequestSession],
    servers: Servers,
    database_url: str,
    hub: RunningServer,
    tmp_path: Path,
) -> None:
    run = uuid.uuid4().hex
    queue = ArqJobQueue(servers.redis_url, queue_name=f"budgraph:test:{run}", job_id_prefix=f"kill-{run}:")
    async with UnitOfWork(committed_sessions, actor="test") as uow:
        model = db.Model(uri=URI, source_kind="huggingface", revision="main")
        uow.session.add(model)
        await uow.session.flush()
        job, _ = await request_job(uow, queue, JobKind.EXTRACT, model, "test")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("BUDGRAPH_")},
        "BUDGRAPH_DATABASE_URL": database_url,
        "BUDGRAPH_REDIS_URL": servers.redis_url,
        "BUDGRAPH_QUEUE_NAME": queue.queue_name,
        "BUDGRAPH_HF_ENDPOINT": hub.url,
        "BUDGRAPH_JOB_TIMEOUT_SECONDS": "10",
        "BUDGRAPH_OBJECTS_DIR": str(tmp_path / "objects"),
        "BUDGRAPH_LEADERBOARD_SCHEDULER": "dapr",
    }
    hub.state.delays[f"/api/models/{URI}"] = 60.0  # the first worker hangs inside the job
    first = _worker(env)
    try:
        deadline = time.monotonic() + 60
        while (await _job(committed_sessions, job.id)).status != "running":
            assert time.monotonic() < deadline, "the first worker never started the job"
            await asyncio.sleep(0.2)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    killed = await _job(committed_sessions, job.id)
    assert (killed.status, killed.attempts) == ("running", 1)

    hub.state.delays.clear()
    second = _worker(env, "--burst")  # arq hands the job out again once the dead worker's lease expires
    try:
        second.wait(timeout=120)
    finally:
        if second.poll() is None:
            os.killpg(second.pid, signal.SIGKILL)
    done = await _job(committed_sessions, job.id)
    assert (done.status, done.attempts, done.error) == ("succeeded", 2, None)
    async with committed_sessions() as session:
        stored = await session.scalar(select(db.Model).where(db.Model.uri == URI))
        assert stored is not None
        assert stored.parameter_count == 106_816
    await queue.close()
