"""Cost budgets per window: per API key, and per client address for anonymous requests.

    limiter = RateLimiter(settings.redis_url, settings)
    decision = await limiter.charge_caller(principal, client_address, cost)
    if not decision.allowed:
        ...  # answer decision.http_status with decision.refusal() and rate_limit_headers(decision)

A refused charge spends nothing, so a client over budget can still send a cheaper request that
fits what is left. A busy caller's charges are mostly paid from credit this process leased from
Redis (``budgraph/ratelimit/leases.py``), without a round trip each.
"""

from __future__ import annotations

import time

from budgraph.auth.keys import Principal
from budgraph.ratelimit.counters import Clock, RedisCounters, Window, window_at
from budgraph.ratelimit.decision import RateDecision, RatePolicy
from budgraph.ratelimit.identities import KEY, caller_identity
from budgraph.ratelimit.leases import CreditLeases
from budgraph.settings import Settings


class RateLimiter:
    def __init__(
        self,
        redis_url: str,
        settings: Settings,
        *,
        clock: Clock = time.time,
        reconnect_interval: float = 1.0,
    ) -> None:
        self._settings = settings
        self._prefix = f"{settings.rate_limit_redis_prefix}:cost"
        self._clock = clock
        self._fail_open = settings.rate_limit_when_redis_down == "open"
        self._counters = RedisCounters(
            redis_url,
            timeout=settings.rate_limit_redis_timeout_seconds,
            purpose="rate limits",
            fail_open=self._fail_open,
            reconnect_interval=reconnect_interval,
        )
        self._leases = CreditLeases()

    def default_limit(self, identity: str) -> int:
        """The budget of an identity without one of its own: the key budget or the anonymous one."""
        if identity.startswith(KEY):
            return self._settings.rate_limit_key_budget
        return self._settings.rate_limit_anonymous_budget

    async def charge(self, identity: str, cost: int, limit: int | None = None) -> RateDecision:
        """Spend ``cost`` of ``identity``'s budget in the current window, if it fits.

        ``limit`` is the identity's budget per window (default: ``default_limit``).
        """
        if cost < 0:
            raise ValueError(f"a cost is never negative (got {cost})")
        budget = self.default_limit(identity) if limit is None else limit
        window = window_at(self._clock(), self._settings.rate_limit_window_seconds)
        key = f"{self._prefix}:{identity}:{window.length}:{window.index}"
        self._leases.start_window(window.index)
        used = self._leases.spend(key, cost, budget)
        if used is not None:  # paid from credit this process holds
            return self._decision(True, budget, used, window, cost)
        handed_back, asked = self._leases.take(key, cost, budget)
        outcome = await self._counters.charge(key, cost - handed_back, budget, window.keep_ms, asked)
        if outcome is None:
            self._leases.restore(key, handed_back, asked)
            return RateDecision(
                allowed=self._fail_open,
                limit=budget,
                remaining=budget,
                reset_seconds=window.reset_seconds,
                window_seconds=window.length,
                cost=cost,
                policy=RatePolicy.COST,
                enforced=False,
            )
        charged, counted, granted = outcome
        used = self._leases.settle(
            key, budget, charged=charged, used=counted, granted=granted, handed_back=handed_back, asked=asked
        )
        return self._decision(charged, budget, used, window, cost)

    @staticmethod
    def _decision(allowed: bool, budget: int, used: int, window: Window, cost: int) -> RateDecision:
        return RateDecision(
            allowed=allowed,
            limit=budget,
            remaining=max(0, budget - used),
            reset_seconds=window.reset_seconds,
            window_seconds=window.length,
            cost=cost,
            policy=RatePolicy.COST,
        )

    async def charge_caller(
        self, principal: Principal | None, address: str | None, cost: int
    ) -> RateDecision:
        """Charge one operation to its caller: its API key (with the key's own budget, if an admin
        set one), else its client address. An operation costs at least ``rate_limit_request_cost``."""
        limit = principal.rate_limit if principal is not None else None
        spent = max(cost, self._settings.rate_limit_request_cost)
        return await self.charge(caller_identity(principal, address), spent, limit)

    async def close(self) -> None:
        await self._counters.close()
