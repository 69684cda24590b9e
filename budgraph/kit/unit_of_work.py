"""One session per request or job, committed in exactly one place."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.kit.db import RequestSession
from budgraph.registry.recorder import record_changes

AfterCommit = Callable[[], Awaitable[None]]
log = logging.getLogger("budgraph.uow")


class UnitOfWork:
    """Owns a session; services may flush, only ``commit`` here commits.

    Work to do once the data is durable (enqueueing jobs) is registered with ``after_commit``
    and dropped on rollback, so a worker never sees a job for a row that does not exist.
    """

    def __init__(self, sessions: async_sessionmaker[RequestSession], actor: str) -> None:
        self.session = sessions()
        self.actor = actor
        self._after_commit: list[AfterCommit] = []

    def after_commit(self, action: AfterCommit) -> None:
        self._after_commit.append(action)

    async def commit(self) -> int | None:
        version = await record_changes(self.session, self.actor)
        await self.session.commit()
        actions, self._after_commit = self._after_commit, []
        for action in actions:
            try:
                await action()
            except Exception:
                # The data is committed; a job that could not be enqueued now is enqueued by the
                # reconciler, so the request still succeeds.
                log.exception("an after-commit action failed")
        return version

    async def rollback(self) -> None:
        self._after_commit.clear()
        await self.session.rollback()

    async def close(self) -> None:
        await self.session.close()
