"""Counting the SQL statements a server sends: a small TCP proxy between it and PostgreSQL that reads
the wire protocol's frontend messages as they pass.

A statement is a simple `Query` ('Q') or an extended-protocol `Execute` ('E'); `Parse` and `Bind`
only say which text an `Execute` runs (a cached prepared statement is parsed once and executed many
times, and each execution is a statement the database runs). BEGIN / COMMIT / ROLLBACK (and
savepoints) count too, and separately as transaction control, since they are round trips a
request pays for. The proxy answers an SSL or GSSAPI request with "N" (no encryption), so the
traffic stays readable; it is for counting only, never in the path of a load test.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from sqlalchemy import make_url

ENCRYPTION_REQUESTS = {80877103, 80877104}  # SSLRequest, GSSENCRequest
TRANSACTION_CONTROL = ("BEGIN", "START TRANSACTION", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")


@dataclass
class Counts:
    statements: int = 0
    transaction_control: int = 0
    texts: list[str] = field(default_factory=list)

    def add(self, sql: str | None) -> None:
        self.statements += 1
        text = (sql or "").lstrip().upper()
        if text.startswith(TRANSACTION_CONTROL):
            self.transaction_control += 1
        if len(self.texts) < 10_000:
            self.texts.append(sql or "")


def upstream_of(url: str) -> tuple[str, int]:
    """Where PostgreSQL listens for a database URL: host (or socket directory) and port."""
    parsed = make_url(url)
    host = parsed.query.get("host")
    return str(host) if host else parsed.host or "127.0.0.1", parsed.port or 5432


def _cstrings(body: bytes, count: int) -> list[str]:
    parts = body.split(b"\0", count)
    return [part.decode("utf-8", "replace") for part in parts[:count]]


class SessionReader:
    """The frontend messages of one client connection: which statement each Execute runs."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.prepared: dict[str, str] = {}
        self.portals: dict[str, str | None] = {}

    def message(self, kind: bytes, body: bytes) -> None:
        if kind == b"Q":
            self.counts.add(_cstrings(body, 1)[0])
        elif kind == b"P":
            name, query = _cstrings(body, 2)
            self.prepared[name] = query
        elif kind == b"B":
            portal, statement = _cstrings(body, 2)
            self.portals[portal] = self.prepared.get(statement)
        elif kind == b"E":
            self.counts.add(self.portals.get(_cstrings(body, 1)[0]))


class CountingProxy:
    """Listens on 127.0.0.1:<port> and forwards to PostgreSQL at ``upstream``, counting statements."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.counts = Counts()
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_writer: asyncio.StreamWriter | None = None
        try:
            startup = await self._startup(client_reader, client_writer)
            host, port = self.upstream
            if host.startswith("/"):  # a socket directory (embedded PostgreSQL)
                upstream_reader, upstream_writer = await asyncio.open_unix_connection(
                    f"{host}/.s.PGSQL.{port}"
                )
            else:
                upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
            upstream_writer.write(startup)
            await asyncio.gather(
                self._frontend(client_reader, upstream_writer),
                self._pipe(upstream_reader, client_writer),
            )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            for writer in (client_writer, upstream_writer):
                if writer is not None:
                    writer.close()

    async def _startup(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        while True:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!II", head)
            rest = await reader.readexactly(length - 8)
            if code in ENCRYPTION_REQUESTS:
                writer.write(b"N")
                await writer.drain()
                continue
            return head + rest

    async def _frontend(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = SessionReader(self.counts)
        try:
            while True:
                head = await reader.readexactly(5)
                (length,) = struct.unpack("!I", head[1:])
                body = await reader.readexactly(length - 4)
                session.message(head[:1], body)
                writer.write(head + body)
                await writer.drain()
        finally:
            writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()


@contextmanager
def counting_proxy(upstream_host: str, upstream_port: int) -> Iterator[CountingProxy]:
    """A proxy served from a thread of its own (the benchmark's own code is synchronous)."""
    loop = asyncio.new_event_loop()
    proxy = CountingProxy(upstream_host, upstream_port)
    thread = threading.Thread(target=loop.run_forever, name="sql-counting-proxy", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(proxy.start(), loop).result(10)
    try:
        yield proxy
    finally:
        asyncio.run_coroutine_threadsafe(proxy.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
