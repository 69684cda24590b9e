"""The registry's current version and epoch, read fresh for each request at almost no cost.

A cached answer may be served only for the version the registry is at when the request arrives,
so every request that could be answered from the cache reads the version. One dedicated
connection reads it with a prepared statement, outside any transaction, and requests coalesce:
while a read is in flight, the requests that arrive wait for the *next* read (one that starts after
they arrived), so no request is ever answered from a version read before it came in, and under load
one read serves a whole batch.
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


class PositionReader:
    def __init__(self, database_url: str, timeout: float) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._timeout = timeout
        self._connection: asyncpg.Connection | None = None
        self._statement: asyncpg.prepared_stmt.PreparedStatement | None = None
        self._current: asyncio.Future[RegistryPosition] | None = None  # the read in flight
        self._next: asyncio.Future[RegistryPosition] | None = None  # the read the newcomers wait for
        self._tasks: set[asyncio.Task[None]] = set()  # held, so a read in flight is not collected

    async def read(self) -> RegistryPosition:
        """The position as of a read that started after this call; raises OSError when unreachable."""
        loop = asyncio.get_running_loop()
        if self._current is None:
            future = self._current = loop.create_future()
            self._start(future)
            return await asyncio.shield(future)
        if self._next is None:
            self._next = loop.create_future()
        return await asyncio.shield(self._next)

    async def _run(self, future: asyncio.Future[RegistryPosition]) -> None:
        try:
            position = await self._query()
            future.set_result(position)
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
            self._connection = await asyncpg.connect(
                self._dsn, timeout=self._timeout, command_timeout=self._timeout
            )
            self._statement = await self._connection.prepare(_READ)
        row = await self._statement.fetchrow(timeout=self._timeout)
        assert row is not None
        return RegistryPosition(version=int(row["version"]), epoch=row["epoch"])

    async def _drop(self) -> None:
        connection, self._connection, self._statement = self._connection, None, None
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
