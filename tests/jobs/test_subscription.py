"""jobUpdated over graphql-transport-ws: a worker in another process of the system (here: another
engine and Redis connection) reports progress, the API streams it to the subscriber."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from arq import func
from arq.worker import Worker
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncEngine

from budgraph import db
from budgraph.app import create_app
from budgraph.auth.service import create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import session_factory
from budgraph.settings import Settings
from budgraph.storage import LocalObjectStore
from tests.conftest import Servers
from tests.extraction.hub_server import RunningServer
from workers.jobs import extract_model

SUBSCRIBE = "subscription ($id: ID!) { jobUpdated(id: $id) { status progress step attempts } }"
REGISTER = 'mutation { registerModel(input: {uri: "budtest/tiny-llama"}) { model { id } job { id } } }'


@pytest.fixture
def served(database_url: str, servers: Servers, tmp_path: Path, queue: ArqJobQueue) -> Iterator[str]:
    """The real app on a free port, with its own engine (so what it writes is committed)."""
    settings = Settings(
        database_url=database_url, redis_url=servers.redis_url, objects_dir=tmp_path / "objects"
    )
    app = create_app(settings, queue=ArqJobQueue(servers.redis_url, queue.queue_name, queue.job_id_prefix))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="websockets"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
async def committed(engine: AsyncEngine) -> AsyncIterator[str]:
    """A write key committed for the served app; everything this test commits is removed after."""
    sessions = session_factory(engine)
    async with sessions() as session:
        key = await create_key(session, "subscriber", ApiKeyScope.WRITE)
        await session.commit()
    yield key
    async with sessions() as session:
        await session.execute(delete(db.Model).where(db.Model.uri == "budtest/tiny-llama"))
        await session.execute(delete(db.ApiKey).where(db.ApiKey.name == "subscriber"))
        await session.execute(delete(db.ChangeLogEntry))
        await session.execute(update(db.RegistryState).values(version=0))
        await session.commit()


async def test_job_updates_stream_to_a_subscriber(
    served: str, committed: str, engine: AsyncEngine, queue: ArqJobQueue, hub: RunningServer, tmp_path: Path
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"http://{served}/graphql",
            json={"query": REGISTER},
            headers={"Authorization": f"Bearer {committed}"},
        )
    job_id = response.json()["data"]["registerModel"]["job"]["id"]

    updates: list[dict[str, Any]] = []
    async with websockets.connect(f"ws://{served}/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps(
                {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE, "variables": {"id": job_id}}}
            )
        )
        first = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert first["payload"]["data"]["jobUpdated"] == {
            "status": "QUEUED",
            "progress": 0,
            "step": "queued",
            "attempts": 0,
        }

        settings = Settings(hf_endpoint=hub.url)

        async def startup(ctx: dict[str, Any]) -> None:
            ctx.update(
                settings=settings,
                sessions=session_factory(engine),
                queue=queue,
                store=LocalObjectStore(tmp_path / "objects"),
            )

        worker = Worker(
            functions=[func(extract_model, keep_result=0)],
            redis_settings=queue.settings,
            queue_name=queue.queue_name,
            burst=True,
            on_startup=startup,
            handle_signals=False,
            poll_delay=0.05,
        )
        work = asyncio.create_task(worker.async_run())
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 30))
            if message["type"] == "complete":
                break
            assert message["type"] == "next", message
            updates.append(message["payload"]["data"]["jobUpdated"])
        await work
        await worker.close()

    assert updates[0]["status"] == "RUNNING"
    assert updates[-1] == {"status": "SUCCEEDED", "progress": 100, "step": "done", "attempts": 1}
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress)
    assert len({u["step"] for u in updates}) >= 4
