"""A pool of asyncpg connections for one-statement reads, taken and given back without awaiting.

asyncpg's own pool costs a read about as much as the read's own Python work: an acquire is a task
under a timeout, a release a reset under another, each a few asyncio objects. A direct read needs
none of it: it runs one statement outside any transaction and changes no session state, so the
connection it used is as good as new the moment its rows are in. Here an idle connection is taken
from a list and put back on it; a request waits (up to the pool timeout) only when every connection
is busy and no more may be opened.

A connection is retired, never reused, when its read failed for any reason but PostgreSQL's own
answer to the statement (an error the server sent: the connection is fine), say a cancelled read
or a lost connection; it is closed in the background, after the cancel request asyncpg sends for a
cancelled read, so the server stops that statement. One the server closed while idle is noticed
when it is taken, and a new one is opened in its place.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg

Connect = Callable[[], Awaitable[asyncpg.Connection]]

CLOSE_SECONDS = 2.0  # a connection's graceful close (its pending cancel request first), then cut


class PoolClosed(RuntimeError):
    """A read on a pool that was closed (the process is stopping)."""


class LeanPool:
    """At most ``size`` connections, opened by ``connect`` when needed; a read waits at most
    ``timeout`` seconds for one (then ``TimeoutError``, as asyncpg's pool raises)."""

    def __init__(self, connect: Connect, size: int, timeout: float) -> None:
        self._connect = connect
        self._size = size
        self._timeout = timeout
        self._idle: list[asyncpg.Connection] = []
        self._opened = 0  # connections open or being opened
        self._waiting: deque[asyncio.Future[asyncpg.Connection | None]] = deque()
        self._closing: set[asyncio.Task[None]] = set()  # retired connections being closed
        self._closed = False

    @property
    def opened(self) -> int:
        """Connections open or being opened now (the tests read it)."""
        return self._opened

    async def fetch(self, sql: str, arguments: Sequence[Any]) -> list[asyncpg.Record]:
        connection = self._idle_one() or await self._take()
        try:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *arguments)
        except asyncpg.PostgresError:
            self._give_back(connection)  # the server's answer: the connection is fine
            raise
        except BaseException:
            self._retire(connection)
            raise
        self._give_back(connection)
        return rows

    def _idle_one(self) -> asyncpg.Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._drop(connection)
        return None

    async def _take(self) -> asyncpg.Connection:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        while True:
            if self._closed:
                raise PoolClosed("the database pool is closed")
            if self._opened < self._size:
                return await self._open()
            waiter: asyncio.Future[asyncpg.Connection | None] = loop.create_future()
            self._waiting.append(waiter)
            try:
                async with asyncio.timeout_at(deadline):
                    handed = await waiter
            except BaseException:
                if not waiter.done():
                    waiter.cancel()
                elif not waiter.cancelled():  # handed over just as the wait ended: pass it on
                    late = waiter.result()
                    if late is None:
                        self._wake(None)
                    else:
                        self._give_back(late)
                raise
            if handed is not None and not handed.is_closed():
                return handed
            if handed is not None:
                self._drop(handed)
            # else a connection was dropped: there is room to open one

    async def _open(self) -> asyncpg.Connection:
        self._opened += 1
        try:
            return await self._connect()
        except BaseException:
            self._opened -= 1
            self._wake(None)
            raise

    def _give_back(self, connection: asyncpg.Connection) -> None:
        if self._closed or connection.is_closed():
            self._drop(connection)
        elif not self._wake(connection):
            self._idle.append(connection)

    def _drop(self, connection: asyncpg.Connection) -> None:
        self._opened -= 1
        connection.terminate()
        self._wake(None)

    def _retire(self, connection: asyncpg.Connection) -> None:
        """Out of the pool after a failed read, closed in the background: a cancelled read's
        cancel request (asyncpg sends it) goes out first, so the server stops the statement
        (``terminate`` would drop the request with the socket, leaving the statement running)."""
        self._opened -= 1
        self._wake(None)
        closing = asyncio.get_running_loop().create_task(self._close(connection))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close(connection: asyncpg.Connection) -> None:
        try:
            await connection.close(timeout=CLOSE_SECONDS)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            connection.terminate()

    def _wake(self, handed: asyncpg.Connection | None) -> bool:
        """Hands ``handed`` (or room for a new connection, when None) to the first live waiter."""
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(handed)
                return True
        return False

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for waiter in self._waiting:
            if not waiter.done():
                waiter.set_result(None)
        self._waiting.clear()
        for connection in idle:
            self._opened -= 1
            await self._close(connection)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
