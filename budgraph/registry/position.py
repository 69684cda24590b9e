"""The registry's current version and epoch, for every request that could be answered from the
cache or with a 304, at almost no cost.

A cached answer may be served only for the version the registry is at when the request arrives.
One dedicated connection reads the version with a prepared statement, outside any transaction,
and requests coalesce: while a read is in flight, the requests that arrive wait for the *next* read
(one that starts after they arrived), so a request that needs a read is never given one begun
before it came.

The same connection LISTENs on `budgraph_registry`, where a trigger on the version row announces
every commit that moves it (migration 0016), whoever the writer. While the connection listens and
no announcement has arrived since a read, that read's position is the registry's, and requests are
answered from it without a read, for at most ``trust_seconds`` (then one read again, which also
proves the connection alive). An announcement, a commit by this process (``moved``, called by the
unit of work's commit watcher before the commit's answer leaves), a lost connection or a failed
read end the trust at once. A commit by another process is seen as soon as its announcement
arrives, within milliseconds of the commit; ``trust_seconds`` 0 reads for every request.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
from sqlalchemy import Select, func, make_url, select, true

from budgraph import db
from budgraph.registry.repository import RegistryPosition

log = logging.getLogger("budgraph.registry")

_READ = "SELECT version, epoch::text FROM registry_state"
CHANNEL = "budgraph_registry"  # migration 0016's trigger notifies it on every commit of the version row


class PositionReader:
    def __init__(self, database_url: str, timeout: float, trust_seconds: float = 0.0) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._timeout = timeout
        self._trust = trust_seconds
        self._connection: asyncpg.Connection | None = None
        self._statement: asyncpg.prepared_stmt.PreparedStatement | None = None
        self._current: asyncio.Future[RegistryPosition] | None = None  # the read in flight
        self._next: asyncio.Future[RegistryPosition] | None = None  # the read the newcomers wait for
        self._tasks: set[asyncio.Task[None]] = set()  # held, so a read in flight is not collected
        self._listening = False  # the connection is subscribed to the channel
        self._moves = 0  # announcements (and commits of this process) so far
        self._known: RegistryPosition | None = None  # trusted until `_known_until` (loop time)
        self._known_until = 0.0
        self.reads = 0  # reads of the version row (the tests count them)

    def moved(self, _version: int | None = None) -> None:
        """The registry moved (an announcement, or a commit of this process): the next request reads."""
        self._moves += 1
        self._known = None

    async def read(self) -> RegistryPosition:
        """The registry's position now; raises OSError when it cannot be read."""
        loop = asyncio.get_running_loop()
        known = self._known
        if known is not None and loop.time() < self._known_until:
            return known
        if self._current is None:
            future = self._current = loop.create_future()
            self._start(future)
            return await asyncio.shield(future)
        if self._next is None:
            self._next = loop.create_future()
        return await asyncio.shield(self._next)

    async def _run(self, future: asyncio.Future[RegistryPosition]) -> None:
        moves = self._moves
        try:
            position = await self._query()
            future.set_result(position)
            if self._listening and self._trust > 0 and self._moves == moves:
                # Nothing was announced while it was read: it stands until something is.
                self._known = position
                self._known_until = asyncio.get_running_loop().time() + self._trust
        except BaseException as error:  # the waiters get it: the caller answers 503
            future.set_exception(OSError(f"the registry version cannot be read: {error}"))
            future.exception()  # marked retrieved: a lone reader may have been cancelled
            await self._drop()
        finally:
            waiting, self._current, self._next = self._next, None, None
            if waiting is not None:
                self._current = waiting
                self._start(waiting)

    def _start(self, future: asyncio.Future[RegistryPosition]) -> None:
        task = asyncio.ensure_future(self._run(future))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _query(self) -> RegistryPosition:
        if self._statement is None:
            connection = self._connection = await asyncpg.connect(
                self._dsn, timeout=self._timeout, command_timeout=self._timeout
            )
            if self._trust > 0:
                await self._listen(connection)
            self._statement = await connection.prepare(_READ)
        self.reads += 1
        row = await self._statement.fetchrow(timeout=self._timeout)
        assert row is not None
        return RegistryPosition(version=int(row["version"]), epoch=row["epoch"])

    async def _listen(self, connection: asyncpg.Connection) -> None:
        try:
            await connection.add_listener(CHANNEL, self._announced)
        except asyncpg.PostgresError as error:  # e.g. behind a pooler that refuses LISTEN
            log.warning("not listening for registry moves (%s): every request reads the version", error)
            return
        connection.add_termination_listener(self._terminated)
        self._listening = True

    def _announced(self, *_: object) -> None:
        self.moved()

    def _terminated(self, connection: object) -> None:
        if connection is self._connection:  # the next read connects again, rather than failing
            self._connection, self._statement = None, None
        self._listening = False
        self.moved()

    async def _drop(self) -> None:
        connection, self._connection, self._statement = self._connection, None, None
        self._listening = False
        self.moved()
        if connection is not None:
            try:
                await connection.close(timeout=1)
            except (OSError, asyncpg.PostgresError, TimeoutError):
                connection.terminate()

    async def close(self) -> None:
        await self._drop()


def with_position(statement: Select[Any], extra: Sequence[Any] = ()) -> Select[Any]:
    """``statement`` with the registry position it is read at, in one statement (so in one
    snapshot: an answer made from its rows belongs to exactly that registry version).

    There is always one row: the position's, with NULLs for the statement's columns when it has
    no rows (``_ordinal`` NULL); the statement's rows keep their order and their column names.
    ``extra`` columns (e.g. a count of the whole list) are read once, on every row.
    """
    state = db.RegistryState.__table__
    order = list(statement._order_by_clauses)
    numbered = statement.add_columns(
        func.row_number().over(order_by=order or None).label("_ordinal")
    ).lateral("found")
    return (
        select(
            state.c.version.label("_registry_version"),
            state.c.epoch.label("_registry_epoch"),
            *extra,
            numbered,
        )
        .select_from(state.outerjoin(numbered, true()))
        .order_by(numbered.c._ordinal)
    )


def split_position(rows: Sequence[Any]) -> tuple[RegistryPosition, list[Any]]:
    """The position and the statement's own rows of a ``with_position`` read."""
    first = rows[0]
    position = RegistryPosition(version=int(first["_registry_version"]), epoch=str(first["_registry_epoch"]))
    return position, [row for row in rows if row["_ordinal"] is not None]
