"""Failed authentications, counted per client address: past the limit an address is refused
before its key is looked up, until the window ends.

    async with throttle.guard(client_address):   # raises the refusal when over the limit
        principal = await authenticate(session, authorization, address=client_address)
    # an UNAUTHENTICATED error leaving the block counts as a failure of that address

Only requests that present credentials belong in the guard; a successful authentication does
not clear earlier failures (a caller holding one valid key could otherwise keep guessing).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from budgraph.kit.errors import Unauthenticated
from budgraph.ratelimit.counters import Clock, RedisCounters, Window, window_at
from budgraph.ratelimit.decision import RateDecision, RatePolicy
from budgraph.ratelimit.identities import address_identity
from budgraph.settings import Settings


class AuthFailureThrottle:
    def __init__(
        self,
        redis_url: str,
        settings: Settings,
        *,
        clock: Clock = time.time,
        reconnect_interval: float = 1.0,
    ) -> None:
        self._prefix = f"{settings.rate_limit_redis_prefix}:auth-failures"
        self._limit = settings.auth_failure_limit
        self._window = settings.auth_failure_window_seconds
        self._clock = clock
        self._fail_open = settings.rate_limit_when_redis_down == "open"
        self._counters = RedisCounters(
            redis_url,
            timeout=settings.rate_limit_redis_timeout_seconds,
            purpose="failed-authentication throttle",
            fail_open=self._fail_open,
            reconnect_interval=reconnect_interval,
        )

    def _key(self, address: str | None, window: Window) -> str:
        return f"{self._prefix}:{address_identity(address)}:{window.length}:{window.index}"

    def _decision(self, window: Window, failures: int | None, *, allowed: bool) -> RateDecision:
        return RateDecision(
            allowed=allowed if failures is not None else self._fail_open,
            limit=self._limit,
            remaining=max(0, self._limit - (failures or 0)),
            reset_seconds=window.reset_seconds,
            window_seconds=window.length,
            cost=1,
            policy=RatePolicy.AUTH_FAILURES,
            enforced=failures is not None,
        )

    async def check(self, address: str | None) -> RateDecision:
        """Whether ``address`` may try to authenticate now (it has failed fewer than the limit)."""
        window = window_at(self._clock(), self._window)
        failures = await self._counters.read(self._key(address, window))
        return self._decision(window, failures, allowed=failures is not None and failures < self._limit)

    async def record_failure(self, address: str | None) -> RateDecision:
        """Count one failed authentication of ``address``; the decision says whether it may try again."""
        window = window_at(self._clock(), self._window)
        failures = await self._counters.add(self._key(address, window), 1, window.keep_ms)
        return self._decision(window, failures, allowed=failures is not None and failures < self._limit)

    @asynccontextmanager
    async def guard(self, address: str | None) -> AsyncIterator[RateDecision]:
        """Refuse an address over the limit before the block runs; count an UNAUTHENTICATED leaving it."""
        decision = await self.check(address)
        if not decision.allowed:
            raise decision.refusal()
        try:
            yield decision
        except Unauthenticated:
            # Concurrent guesses may all pass the check before any is counted: the count (one atomic
            # add) decides, and a failure beyond the limit is refused as over it, not answered.
            window = window_at(self._clock(), self._window)
            failures = await self._counters.add(self._key(address, window), 1, window.keep_ms)
            if failures is not None and failures > self._limit:
                raise self._decision(window, failures, allowed=False).refusal() from None
            raise

    async def close(self) -> None:
        await self._counters.close()
