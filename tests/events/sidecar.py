"""A local Dapr sidecar for the tests: the runtime's gRPC API (its PublishEvent, from the SDK's own
protocol stubs) and the HTTP health endpoint the SDK's client waits for before it connects.

The health endpoint runs in a thread of its own: ``DaprClient()`` checks it with a blocking
request from the event loop that also runs the gRPC server.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import orjson
import pytest
from dapr.proto.runtime.v1.dapr_pb2_grpc import DaprServicer, add_DaprServicer_to_server
from dapr.proto.runtime.v1.pubsub_pb2 import PublishEventRequest
from google.protobuf import empty_pb2


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        runtime: DaprRuntime = self.server.runtime  # type: ignore[attr-defined]
        if self.path != "/v1.0/healthz/outbound":
            self.send_response(404)
        else:
            self.send_response(204 if runtime.ready else 500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class DaprRuntime(DaprServicer):  # type: ignore[misc]
    """Takes every PublishEvent, or refuses it with ``failing`` (a gRPC status; from the
    ``refuse_after``-th event on, if that is set), or holds it unanswered while ``holding`` (the
    publisher then sees no answer, as if it had crashed). Its health endpoint answers 500 unless
    ``ready``."""

    def __init__(self) -> None:
        self.received: list[PublishEventRequest] = []
        self.refused = 0
        self.failing: grpc.StatusCode | None = None
        self.holding = False
        self.ready = True
        self.refuse_after: int | None = None
        self._changed = asyncio.Condition()

    async def PublishEvent(self, request: PublishEventRequest, context: Any) -> empty_pb2.Empty:
        if self.refuse_after is not None and len(self.received) >= self.refuse_after:
            self.failing, self.refuse_after = grpc.StatusCode.UNAVAILABLE, None
        if self.failing is not None:
            async with self._changed:
                self.refused += 1
                self._changed.notify_all()
            await context.abort(self.failing, "the broker is down")
        async with self._changed:
            self.received.append(request)
            self._changed.notify_all()
        if self.holding:
            await asyncio.Event().wait()  # never answers; the caller is cancelled
        return empty_pb2.Empty()

    def events(self) -> list[dict[str, Any]]:
        """The data of every event received, in order."""
        return [orjson.loads(request.data) for request in self.received]

    def change_ids(self) -> list[int]:
        return [event["changeId"] for event in self.events()]

    async def until(self, received: int | None = None, refused: int | None = None) -> None:
        """Wait until that many events were received (or refused)."""

        def reached() -> bool:
            return (received is None or len(self.received) >= received) and (
                refused is None or self.refused >= refused
            )

        async with asyncio.timeout(30), self._changed:
            await self._changed.wait_for(reached)


@asynccontextmanager
async def dapr_sidecar(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DaprRuntime]:
    """A sidecar on free local ports, which the Dapr SDK is pointed at (DAPR_GRPC_PORT / DAPR_HTTP_PORT)."""
    runtime = DaprRuntime()
    server = grpc.aio.server()
    add_DaprServicer_to_server(runtime, server)
    grpc_port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    health = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    health.runtime = runtime  # type: ignore[attr-defined]
    thread = threading.Thread(target=health.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DAPR_RUNTIME_HOST", "127.0.0.1")
    monkeypatch.setenv("DAPR_GRPC_PORT", str(grpc_port))
    monkeypatch.setenv("DAPR_HTTP_PORT", str(health.server_address[1]))
    for name in ("DAPR_GRPC_ENDPOINT", "DAPR_HTTP_ENDPOINT", "DAPR_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    try:
        yield runtime
    finally:
        await server.stop(grace=None)
        health.shutdown()
        health.server_close()
        thread.join(timeout=5)
