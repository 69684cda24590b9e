"""A local HTTP server for fetch tests: serves the recorded samples with validators, and fails on request.

Routes:
- ``/sample/<file>``: a sample with a strong ETag and a fixed Last-Modified; 304 to a matching
  ``If-None-Match`` or to an ``If-Modified-Since`` not older than the file.
- ``/flaky/<key>?fail=N&status=503``: fails N times per key with ``status``, then serves a body.
- ``/broken``: always 500. ``/missing``: 404. ``/limited/<key>``: one 429 with ``Retry-After: 7``.
- ``/big?size=N``: N bytes, streamed without Content-Length; ``/big-declared?size=N``: with it.
- ``/slow?seconds=S``: answers after S seconds.
- ``/pages?offset=&length=``: a datasets-server style split of ``PAGED_ROWS`` rows.
Every request is counted by path in ``LocalServer.hits``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from importlib import resources

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

LAST_MODIFIED = format_datetime(datetime(2025, 9, 16, 8, 0, 0, tzinfo=UTC), usegmt=True)
PAGED_ROWS = 250


def _sample(name: str) -> bytes:
    return resources.files("budgraph.leaderboards.sources").joinpath("samples", name).read_bytes()


class LocalServer:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.seen_headers: dict[str, dict[str, str]] = {}
        self.url = ""
        self.app = Starlette(
            routes=[
                Route("/sample/{name}", self.sample),
                Route("/flaky/{key}", self.flaky),
                Route("/broken", self.broken),
                Route("/missing", self.missing),
                Route("/limited/{key}", self.limited),
                Route("/big", self.big),
                Route("/big-declared", self.big_declared),
                Route("/slow", self.slow),
                Route("/pages", self.pages),
            ]
        )

    def _count(self, request: Request) -> None:
        self.hits[request.url.path] += 1
        self.seen_headers[request.url.path] = dict(request.headers)

    async def sample(self, request: Request) -> Response:
        self._count(request)
        body = _sample(request.path_params["name"])
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        since = request.headers.get("if-modified-since")
        fresh_enough = since and parsedate_to_datetime(since) >= parsedate_to_datetime(LAST_MODIFIED)
        if fresh_enough and "if-none-match" not in request.headers:
            return Response(status_code=304, headers=headers)
        return Response(body, headers=headers, media_type="application/octet-stream")

    async def flaky(self, request: Request) -> Response:
        self._count(request)
        fail = int(request.query_params.get("fail", "2"))
        if self.hits[request.url.path] <= fail:
            return Response("busy", status_code=int(request.query_params.get("status", "503")))
        return Response(b"finally", media_type="text/plain")

    async def broken(self, request: Request) -> Response:
        self._count(request)
        return Response("boom", status_code=500)

    async def missing(self, request: Request) -> Response:
        self._count(request)
        return Response("no such file", status_code=404)

    async def limited(self, request: Request) -> Response:
        self._count(request)
        if self.hits[request.url.path] == 1:
            return Response("slow down", status_code=429, headers={"Retry-After": "7"})
        return Response(b"ok", media_type="text/plain")

    async def big(self, request: Request) -> Response:
        self._count(request)
        size = int(request.query_params["size"])

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, size, 64 * 1024):
                yield b"x" * min(64 * 1024, size - start)

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def big_declared(self, request: Request) -> Response:
        self._count(request)
        return Response(b"x" * int(request.query_params["size"]), media_type="application/octet-stream")

    async def slow(self, request: Request) -> Response:
        self._count(request)
        await asyncio.sleep(float(request.query_params["seconds"]))
        return Response(b"late", media_type="text/plain")

    async def pages(self, request: Request) -> Response:
        self._count(request)
        offset = int(request.query_params["offset"])
        length = int(request.query_params["length"])
        rows = [
            {"row_idx": i, "row": {"n": i}, "truncated_cells": []}
            for i in range(offset, min(offset + length, PAGED_ROWS))
        ]
        body = {"features": [], "rows": rows, "num_rows_total": PAGED_ROWS, "num_rows_per_page": 100}
        return Response(json.dumps(body), media_type="application/json")


@contextmanager
def serving() -> Iterator[LocalServer]:
    local = LocalServer()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    local.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(local.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.02)
    try:
        yield local
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
