"""The real app served by uvicorn on a free port, on a database of its own that each test empties.

Tests that need committed transactions (WebSocket operations, hostile clients, outages) use this
instead of the rolled-back in-process client: what the served app writes is real, and the test
can look at the server from outside (``pg_stat_activity``, the pool, the answers over HTTP).
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import asyncpg
import uvicorn
import websockets
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

from budgraph.server import uvicorn_config

# Everything a test may write; the single-row tables are reset rather than emptied.
_KEEP = {"alembic_version", "registry_state", "change_publication"}


def plain_dsn(url: str) -> str:
    """An asyncpg DSN for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def empty_database(url: str) -> None:
    """Remove every row a test may have committed, and reset the registry (version 0, a new epoch,
    nothing published)."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        tables = [
            row["tablename"]
            for row in await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            if row["tablename"] not in _KEEP
        ]
        if tables:
            await connection.execute(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            )
        await connection.execute("UPDATE registry_state SET version = 0, epoch = gen_random_uuid()")
        await connection.execute("UPDATE change_publication SET change_id = 0, published_at = NULL")
    finally:
        await connection.close()


async def idle_in_transaction(url: str) -> int:
    """How many connections to this database sit idle inside a transaction."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
        )
    finally:
        await connection.close()
    return count


@dataclass
class LiveServer:
    host: str
    port: int
    app: Starlette

    @property
    def http(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}:{self.port}/graphql"

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine

    def checked_out(self) -> int:
        """Connections of the app's pool in use right now."""
        return int(self.engine.pool.checkedout())  # type: ignore[attr-defined]


@contextmanager
def serve(app: Starlette) -> Iterator[LiveServer]:
    """Serve ``app`` from a thread until the block ends."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn_config(app, app.state.settings, log_level="warning", ws="websockets-sansio")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    try:
        yield LiveServer("127.0.0.1", sock.getsockname()[1], app)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


class GraphQLWebSocket:
    """A graphql-transport-ws client that runs several operations at once on one connection."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._queues: dict[str, asyncio.Queue[dict[str, Any]]] = {}
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.ws:
            message = json.loads(raw)
            queue = self._queues.get(message.get("id", ""))
            if queue is not None:
                queue.put_nowait(message)

    async def start(self, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        self._queues[op_id] = asyncio.Queue()
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": payload}))

    async def next(self, op_id: str) -> dict[str, Any]:
        return await asyncio.wait_for(self._queues[op_id].get(), 15)

    async def stop(self, op_id: str) -> None:
        await self.ws.send(json.dumps({"id": op_id, "type": "complete"}))

    async def operate(
        self, op_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Run one operation and return its messages up to its `complete` or `error`."""
        await self.start(op_id, query, variables)
        messages: list[dict[str, Any]] = []
        while True:
            message = await self.next(op_id)
            messages.append(message)
            if message["type"] in ("complete", "error"):
                del self._queues[op_id]
                return messages

    async def close(self) -> None:
        self._reader.cancel()
        with suppress(asyncio.CancelledError):
            await self._reader


@asynccontextmanager
async def graphql_ws(url: str, payload: dict[str, Any] | None = None) -> AsyncIterator[GraphQLWebSocket]:
    """A connection that has been acknowledged (``payload`` goes in ``connection_init``)."""
    async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if ack.get("type") != "connection_ack":
            raise AssertionError(f"not acknowledged: {ack}")
        client = GraphQLWebSocket(ws)
        try:
            yield client
        finally:
            await client.close()
