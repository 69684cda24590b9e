"""Answering quickly while the database is unreachable, and noticing by itself when it is back.

After a request finds the database unreachable (a refused or timed-out connection, a pool that
stays empty), the next requests are answered 503 at once instead of each waiting for the pool's
timeout; after ``cooldown`` seconds one request at a time is let through to probe it, and the first
that succeeds opens the way for all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

log = logging.getLogger("budgraph.availability")


class DatabaseAvailability:
    def __init__(self, cooldown: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self.clock = clock
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._probing = False

    @property
    def down(self) -> bool:
        return self._down_since is not None

    def admit(self) -> bool:
        """Whether a request may use the database now (False: answer 503 without trying)."""
        if self._down_since is None:
            return True
        if self._probing or self.clock() < self._retry_at:
            return False
        self._probing = True  # this request is the probe
        return True

    def failed(self) -> None:
        now = self.clock()
        if self._down_since is None:
            self._down_since = now
            log.error("the database is unreachable; answering 503 until it is back")
        self._retry_at = now + self.cooldown
        self._probing = False

    def succeeded(self) -> None:
        if self._down_since is not None:
            log.warning("the database is back after %.1f s", self.clock() - self._down_since)
        self._down_since = None
        self._probing = False

    def settle(self) -> None:
        """The request ended without telling either way (it did not touch the database)."""
        self._probing = False
