"""A real arq worker in burst mode for job tests, with a fake Hub, a local object store and clamd."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from arq import func
from arq.worker import Worker
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import RequestSession
from budgraph.settings import Settings
from budgraph.storage import LocalObjectStore
from tests.extraction import builders
from tests.extraction.hub_server import RunningServer, hub_server
from workers.jobs import extract_model, refresh_leaderboards, scan_model

RunWorker = Callable[..., Awaitable[Worker]]


@pytest.fixture(scope="session")
def tiny_llama(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return builders.write_llama(tmp_path_factory.mktemp("repos") / "llama")


@pytest.fixture
def hub(tiny_llama: Path) -> Iterator[RunningServer]:
    with hub_server() as server:
        server.state.add_repo("budtest/tiny-llama", tiny_llama)
        yield server


@pytest.fixture
def job_settings(hub: RunningServer) -> Settings:
    return Settings(
        hf_endpoint=hub.url,
        clamd_address="unix:///nonexistent/clamd.sock",
        job_max_attempts=3,
        job_retry_base_seconds=0.2,
    )


@pytest.fixture
def run_worker(
    sessions: async_sessionmaker[RequestSession],
    queue: ArqJobQueue,
    store: LocalObjectStore,
    job_settings: Settings,
) -> RunWorker:
    """Run every queued job (including retries) with a real arq worker, then return it."""

    async def run(settings: Settings | None = None) -> Worker:
        async def startup(ctx: dict[str, Any]) -> None:
            ctx.update(settings=settings or job_settings, sessions=sessions, queue=queue, store=store)

        worker = Worker(
            functions=[
                func(job, keep_result=0, max_tries=3)
                for job in (extract_model, scan_model, refresh_leaderboards)
            ],
            redis_settings=queue.settings,
            queue_name=queue.queue_name,
            burst=True,
            on_startup=startup,
            handle_signals=False,
            poll_delay=0.05,
            max_jobs=1,  # jobs share the test's one connection: run them one at a time
        )
        try:
            await worker.async_run()
        finally:
            await worker.close()
        return worker

    return run


def tar_gz(folder: Path, destination: Path, top: str = "model") -> Path:
    """A .tar.gz of ``folder``'s files under a top-level folder (as people pack models)."""
    import tarfile

    with tarfile.open(destination, "w:gz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.add(path, arcname=f"{top}/{path.relative_to(folder).as_posix()}")
    return destination


async def upload(client: Any, token: str, archive: Path, uri: str, status: int = 200) -> dict[str, Any]:
    """POST a GraphQL multipart request (the spec's operations / map / file parts)."""
    import json

    operations = {
        "query": "mutation ($file: Upload!, $uri: String!) { uploadModelArchive(file: $file, uri: $uri) {"
        " model { id uri sourceKind files { totalCount nodes { path size sha256 } } } job { id status } } }",
        "variables": {"file": None, "uri": uri},
    }
    response = await client.http.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (archive.name, archive.read_bytes(), "application/gzip")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body
