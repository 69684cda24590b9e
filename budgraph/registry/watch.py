"""Telling `registryChanged` subscriptions that the registry moved, without a connection each.

One task per process polls the registry position (on the version reader's own connection, the read
the answer cache and the ETags use) every ``registry_poll_interval_seconds``, and only while some
subscription waits: however many wait, the process reads the version once per interval, and no
waiting subscription holds a connection of the pool. Every writer moves the version (the API, the
workers, the seed and the CLI alike), so polling it misses none of them.

The watch only says *that* the registry moved; the subscription reads *what* changed itself, in a
short transaction, and a wait ends on a poll that completed after it began, so a position read
before a subscription caught up never wakes it again and again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from budgraph.registry.repository import RegistryPosition

log = logging.getLogger("budgraph.registry")

ReadPosition = Callable[[], Awaitable[RegistryPosition]]


class RegistryWatch:
    def __init__(self, read: ReadPosition, interval: float) -> None:
        self._read = read
        self.interval = interval
        self._latest: RegistryPosition | None = None
        self._polls = 0  # polls completed (successfully)
        self._polled = asyncio.Condition()
        self._waiting = 0
        self._poller: asyncio.Task[None] | None = None

    @property
    def waiting(self) -> int:
        """How many callers wait for the registry to move."""
        return self._waiting

    @property
    def polling(self) -> bool:
        return self._poller is not None

    async def moved(self, past: RegistryPosition) -> RegistryPosition:
        """The position of the first poll, completed after this call, that is past ``past``: a
        higher version, or another epoch (the registry was reset)."""
        async with self._polled:
            polls = self._polls

            def beyond() -> bool:
                latest = self._latest
                return (
                    self._polls > polls
                    and latest is not None
                    and (latest.epoch != past.epoch or latest.version > past.version)
                )

            self._waiting += 1
            try:
                if self._poller is None:
                    self._poller = asyncio.create_task(self._poll())
                await self._polled.wait_for(beyond)
            finally:
                self._waiting -= 1
            assert self._latest is not None
            return self._latest

    async def _poll(self) -> None:
        while True:
            try:
                position = await self._read()
            except (DBAPIError, PoolTimeout, OSError) as error:
                # The subscriptions wait on; they are told once the registry answers again.
                log.warning("the registry version cannot be read: %s: %s", type(error).__name__, error)
            except Exception:
                # Not expected; the waiting subscriptions must not be left without a poller for it.
                log.exception("polling the registry version failed")
            else:
                async with self._polled:
                    self._latest = position
                    self._polls += 1
                    self._polled.notify_all()
            await asyncio.sleep(self.interval)
            async with self._polled:
                if not self._waiting:
                    self._poller = None
                    return

    async def close(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with suppress(asyncio.CancelledError):
                await poller
