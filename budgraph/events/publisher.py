"""The publisher: sends the unpublished change-log rows to the sidecar in order, and marks them.

One pass (``publish_pending``) takes the publication mark's row lock (``SKIP LOCKED``: a second
process that finds it held leaves the work to the holder and looks again shortly), reads the rows
after the mark in change-log order, publishes them one by one and moves the mark past the last
one the sidecar took, all in one transaction per batch. A publish that fails ends the pass: the
rows from there on stay unpublished and the next pass, after a backoff, starts with them. A crash
after a publish and before its mark commits publishes that row again (at least once).

``run`` repeats passes: at once when told (``nudge``, after every commit of this process that moved
the registry version), otherwise every ``events_sweep_seconds``, which picks up what other
processes (the worker, the CLI) committed and whatever a crash left.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.events import repository
from budgraph.events.message import ChangeEvent
from budgraph.events.sidecar import PublishFailed, Sidecar
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings

log = logging.getLogger("budgraph.events")

# A pass holds a transaction open while it publishes (the mark's lock); it stops taking new rows
# after this long, well inside the sessions' idle-in-transaction timeout (60 s).
BATCH_SECONDS = 20.0
# How soon a publisher that found the mark locked by another process looks again: the holder's
# batch may have been read before this process's last commit.
BUSY_RETRY_SECONDS = 0.2


# What a pass may meet without a bug: the sidecar, or the database, unreachable or too slow.
EXPECTED_FAILURES = (PublishFailed, DBAPIError, PoolTimeout, OSError)


@dataclass(frozen=True)
class Pass:
    """What one pass did: how many changes it published and marked, and whether it found the mark
    held by another publisher (and so published nothing)."""

    published: int
    busy: bool = False


class PublishInterrupted(PublishFailed):
    """A pass stopped at a change the sidecar did not take; the ones before it are marked."""

    def __init__(self, published: int, cause: PublishFailed) -> None:
        super().__init__(f"{published} published, then: {cause}")
        self.published = published


class ChangePublisher:
    def __init__(
        self, sessions: async_sessionmaker[RequestSession], sidecar: Sidecar, settings: Settings
    ) -> None:
        self.sessions = sessions
        self.sidecar = sidecar
        self.settings = settings
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def nudge(self, _version: int | None = None) -> None:
        """Publish soon: a commit moved the registry version."""
        self._wake.set()

    async def publish_pending(self) -> Pass:
        """Publish and mark everything unpublished, batch by batch, until none is left."""
        # Before any transaction: waiting for a sidecar that is not up yet holds no lock.
        await self.sidecar.connect()
        published = 0
        while True:
            batch, done = await self._publish_batch(published)
            if batch is None:
                return Pass(published, busy=True)
            published += batch
            if done:
                return Pass(published)

    async def _publish_batch(self, before: int) -> tuple[int | None, bool]:
        """One transaction: (how many published, whether nothing is left), or (None, _) if busy."""
        limit = self.settings.events_batch_size
        async with UnitOfWork(self.sessions, actor="events") as uow:
            claim = await repository.claim(uow.session)
            if claim is None:
                return None, False
            rows = await repository.unpublished(uow.session, claim.change_id, limit)
            marked, failure = claim.change_id, None
            started = time.monotonic()
            for row in rows:
                if time.monotonic() - started > BATCH_SECONDS:
                    break
                try:
                    await self.sidecar.publish(ChangeEvent.from_row(row, claim.epoch))
                except PublishFailed as error:
                    failure = error
                    break
                marked = row.id
            count = sum(1 for row in rows if row.id <= marked)
            if count:
                await repository.mark(uow.session, marked)
        if failure is not None:
            raise PublishInterrupted(before + count, failure)
        return count, len(rows) < limit and count == len(rows)

    async def run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                outcome = await self.publish_pending()
            except Exception as error:
                failures += 1
                delay = min(
                    self.settings.events_retry_base_seconds * 2 ** (failures - 1),
                    self.settings.events_retry_max_seconds,
                )
                # Told of new commits meanwhile, it still waits: a failing sidecar is not hammered.
                if failures == 1:
                    expected = isinstance(error, EXPECTED_FAILURES)  # else a bug: show where
                    log.warning("publishing registry events failed (%s: %s); retrying in %.3g s",
                                type(error).__name__, error, delay, exc_info=not expected)  # fmt: skip
                else:
                    log.debug("publishing registry events failed again (%s); retry in %.3g s", error, delay)
                await asyncio.sleep(delay)
                continue
            if failures:
                log.warning("publishing registry events works again after %d failed attempts", failures)
                failures = 0
            if outcome.busy:
                await asyncio.sleep(BUSY_RETRY_SECONDS)
                continue
            with suppress(TimeoutError):
                async with asyncio.timeout(self.settings.events_sweep_seconds):
                    await self._wake.wait()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="budgraph-events")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await self.sidecar.close()
