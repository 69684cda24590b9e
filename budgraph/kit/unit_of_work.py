"""The unit of work: the only way to a database transaction, on every path.

HTTP requests, WebSocket operations, job steps, the leaderboard refresh, the seeder and the CLI
all write through ``async with UnitOfWork(sessions, actor) as uow:``. Leaving the block normally
commits (recording the registry changes first); leaving it by an exception, or after
``rollback()``, rolls back. Either way the session is closed and its connection goes back to the
pool, so no path can leave a connection idle in a transaction::

    async with UnitOfWork(sessions, actor="seed") as uow:
        await seed(uow.session)
    # committed here, with one registry version and one change-log row per changed entity

Work to do once the data is durable (enqueueing jobs, publishing events) is registered with
``after_commit`` and dropped on rollback, so a worker never sees a job for a row that does not
exist. ``record_changes`` is called from here and nowhere else. A process that wants to know when
the registry version moved (the event publisher) watches the sessionmaker with ``watch_commits``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from budgraph.kit.db import RequestSession
from budgraph.registry.recorder import record_changes

AfterCommit = Callable[[], Awaitable[None]]
CommitWatcher = Callable[[int], None]
log = logging.getLogger("budgraph.uow")
_WATCHERS = "budgraph.commit_watchers"


def watch_commits(sessions: async_sessionmaker[RequestSession], watcher: CommitWatcher) -> None:
    """Call ``watcher(version)`` after every commit through ``sessions`` that moved the registry
    version; it must return at once (it is told, it does not work there)."""
    info: dict[str, Any] = sessions.kw.setdefault("info", {})
    watchers: list[CommitWatcher] = info.setdefault(_WATCHERS, [])
    watchers.append(watcher)


def unwatch_commits(sessions: async_sessionmaker[RequestSession], watcher: CommitWatcher) -> None:
    watchers: list[CommitWatcher] = sessions.kw.get("info", {}).get(_WATCHERS, [])
    if watcher in watchers:
        watchers.remove(watcher)


class UnitOfWorkClosed(RuntimeError):
    """The unit of work was used outside its ``async with`` block, or after it ended."""


class UnitOfWork:
    """Owns one session for one operation; services may flush, only this commits."""

    def __init__(self, sessions: async_sessionmaker[RequestSession], actor: str) -> None:
        self._sessions = sessions
        self._session: RequestSession | None = None
        self.actor = actor
        self.version: int | None = None
        self._after_commit: list[AfterCommit] = []
        self._ended = False

    @property
    def session(self) -> RequestSession:
        if self._session is None or self._ended:
            raise UnitOfWorkClosed("the unit of work is not open")
        return self._session

    @property
    def ended(self) -> bool:
        """Whether this unit of work committed or rolled back (an exit then only closes)."""
        return self._ended

    async def __aenter__(self) -> UnitOfWork:
        if self._session is not None:
            raise UnitOfWorkClosed("a unit of work is entered once")
        self._session = self._sessions()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._ended:
                if exc_type is None:
                    await self.commit()
                else:
                    await self.rollback()
        finally:
            session, self._session = self._session, None
            self._ended = True
            if session is not None:
                await session.close()

    def after_commit(self, action: AfterCommit) -> None:
        self._after_commit.append(action)

    async def commit(self) -> int | None:
        """Record the changes, commit, then run the after-commit actions; returns the new version.

        On failure the transaction is rolled back and the error raised; the unit of work is over
        either way.
        """
        session = self.session
        try:
            self.version = await record_changes(session, self.actor)
            await session.commit()
        except BaseException:
            await self.rollback()
            raise
        self._ended = True
        if self.version is not None:
            for watcher in session.info.get(_WATCHERS, ()):
                watcher(self.version)
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                await action()
            except Exception as error:
                # The data is committed; a job that could not be enqueued now is enqueued by the
                # reconciler, so the operation still succeeds.
                log.warning("an after-commit action failed (%s: %s)", type(error).__name__, error)
        return self.version

    async def rollback(self) -> None:
        self._after_commit.clear()
        self._ended = True
        if self._session is not None:
            await self._session.rollback()

    async def consistent_snapshot(self) -> None:
        """Let every statement of this (read-only) unit of work see one snapshot of the database
        (REPEATABLE READ); call it before the first statement. Sessions bound to a connection that
        is already in a transaction (tests) keep that transaction's isolation."""
        if isinstance(self._sessions.kw.get("bind"), AsyncEngine):
            await self.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})

    async def release(self) -> None:
        """End a read-only transaction and return its connection; the next use begins a new one.

        For long-lived operations (a subscription between two events): nothing may be pending.
        """
        session = self.session
        if session.new or session.dirty or session.deleted:
            raise UnitOfWorkClosed("release() with unflushed changes; commit or roll back instead")
        await session.rollback()
        await session.close()


async def read_now(sessions: async_sessionmaker[RequestSession], statement: Executable) -> Row[Any]:
    """One row, read outside any transaction of ours (autocommit: one round trip), for a value that
    is valid the moment it is read (the registry version, before looking up a cached answer)."""
    bind = sessions.kw.get("bind")
    if isinstance(bind, AsyncEngine):
        async with bind.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            return (await autocommit.execute(statement)).one()
    async with UnitOfWork(sessions, actor="anonymous") as uow:
        row: Row[Any] = (await uow.session.execute(statement)).one()
    return row
