"""Credit leases in the real Redis: a busy caller is charged mostly without round trips, every
answer of one process stays exact, and several processes together never overspend."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from budgraph.ratelimit import RateLimiter
from budgraph.ratelimit.counters import window_at
from tests.ratelimit.conftest import FakeClock, limit_settings


def fresh() -> str:
    return f"address:lease-{uuid.uuid4().hex}"


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


async def counted(redis: Redis, limiter: RateLimiter, who: str, clock: FakeClock) -> int:
    """The window's counter in Redis: what was charged plus the credit leased."""
    window = window_at(clock(), 60)
    return int(await redis.get(f"{limiter._prefix}:{who}:60:{window.index}") or 0)


async def test_a_busy_caller_pays_from_leased_credit_and_every_answer_is_exact(
    redis_url: str, redis: Redis, clock: FakeClock
) -> None:
    limiter = RateLimiter(redis_url, limit_settings(rate_limit_anonymous_budget=10_000), clock=clock)
    who = fresh()
    try:
        first = await limiter.charge(who, 10)
        # seen once: charged exactly, nothing leased
        assert (first.remaining, await counted(redis, limiter, who, clock)) == (9_990, 10)
        second = await limiter.charge(who, 10)
        # seen again: the charge brings a hundredth of the budget as credit
        assert (second.remaining, await counted(redis, limiter, who, clock)) == (9_980, 120)
        trips = limiter._counters.round_trips
        rest = [await limiter.charge(who, 10) for _ in range(10)]
        assert limiter._counters.round_trips == trips  # all ten paid from the credit
        assert [d.remaining for d in rest] == list(range(9_970, 9_870, -10))
        assert await counted(redis, limiter, who, clock) == 120
        # the credit is spent: the next charge goes to Redis and leases again
        more = await limiter.charge(who, 10)
        assert limiter._counters.round_trips == trips + 1
        assert (more.remaining, await counted(redis, limiter, who, clock)) == (9_870, 230)
    finally:
        await limiter.close()


async def test_a_charge_the_credit_does_not_cover_hands_it_back(
    redis_url: str, redis: Redis, clock: FakeClock
) -> None:
    limiter = RateLimiter(redis_url, limit_settings(rate_limit_anonymous_budget=1_000), clock=clock)
    who = fresh()
    try:
        await limiter.charge(who, 10)
        await limiter.charge(who, 10)  # leases 10 more
        assert await counted(redis, limiter, who, clock) == 30
        # 15 is more than the 10 held: the 10 go towards it, Redis is charged the other 5, and a
        # lease of 10 could not serve a charge of 15, so none is asked for
        dear = await limiter.charge(who, 15)
        assert (dear.allowed, dear.remaining, await counted(redis, limiter, who, clock)) == (True, 965, 35)
        # the last of the budget is never locked in a lease
        last = await limiter.charge(who, 965)
        assert (last.allowed, last.remaining) == (True, 0)
        assert not (await limiter.charge(who, 1)).allowed
    finally:
        await limiter.close()


async def test_a_refused_charge_keeps_the_credit_and_says_what_is_left(
    redis_url: str, clock: FakeClock
) -> None:
    limiter = RateLimiter(redis_url, limit_settings(rate_limit_anonymous_budget=1_000), clock=clock)
    who = fresh()
    try:
        await limiter.charge(who, 10)
        await limiter.charge(who, 10)  # holds 10 of credit; 980 left
        refused = await limiter.charge(who, 981)
        assert (refused.allowed, refused.remaining) == (False, 980)
        # the credit is still here: a charge it covers is paid without Redis
        trips = limiter._counters.round_trips
        cheap = await limiter.charge(who, 10)
        assert (cheap.allowed, cheap.remaining, limiter._counters.round_trips) == (True, 970, trips)
    finally:
        await limiter.close()


async def test_a_new_window_or_a_changed_budget_forgets_the_credit(
    redis_url: str, redis: Redis, clock: FakeClock
) -> None:
    limiter = RateLimiter(redis_url, limit_settings(), clock=clock)
    who = f"key:lease-{uuid.uuid4().hex}"
    try:
        await limiter.charge(who, 10, limit=10_000)
        await limiter.charge(who, 10, limit=10_000)  # holds 100 of credit
        # an admin lowered the key's budget: the credit held under the old one is not spent
        lowered = await limiter.charge(who, 10, limit=5_000)
        assert (lowered.remaining, await counted(redis, limiter, who, clock)) == (5_000 - 130, 130)
        clock.advance(60)
        fresh_window = await limiter.charge(who, 10, limit=5_000)
        assert fresh_window.remaining == 4_990
        assert await counted(redis, limiter, who, clock) == 10
    finally:
        await limiter.close()


async def test_processes_holding_credit_never_overspend_and_refuse_early_by_at_most_their_leases(
    redis_url: str, clock: FakeClock
) -> None:
    # Two limiters with their own connections and leases, as two API processes would be.
    settings = limit_settings(rate_limit_anonymous_budget=1_000, rate_limit_redis_timeout_seconds=10)
    limiters = [RateLimiter(redis_url, settings, clock=clock) for _ in "ab"]
    who = fresh()
    decisions = []
    try:
        for _ in range(15):  # waves of concurrent charges, so leases are taken, spent and renewed
            decisions += await asyncio.gather(*(limiters[i % 2].charge(who, 1) for i in range(100)))
    finally:
        for limiter in limiters:
            await limiter.close()
    assert all(d.enforced for d in decisions)
    allowed = sum(d.allowed for d in decisions)
    # each process holds at most one lease of 10 unspent when the budget runs out
    assert 1_000 - 2 * 10 <= allowed <= 1_000
    assert all(d.remaining >= 0 for d in decisions)
