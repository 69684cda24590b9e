"""Cost budgets per window in the real Redis: exact counts, window reset, per-key budgets,
atomicity under concurrency, and the IETF header fields."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from budgraph.auth.keys import Principal
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.errors import ErrorCode
from budgraph.ratelimit import RateLimiter, address_identity, key_identity, rate_limit_headers
from tests.ratelimit.conftest import FakeClock, limit_settings


def fresh(kind: str = "address") -> str:
    """An identity no earlier run has charged."""
    return f"{kind}:test-{uuid.uuid4().hex}"


def fresh_address() -> str:
    """A client address (an IPv6 /64) no earlier run has charged."""
    bits = uuid.uuid4().hex
    return f"2001:db8:{bits[:4]}:{bits[4:8]}::1"


@pytest.fixture
async def limiter(redis_url: str, clock: FakeClock) -> AsyncIterator[RateLimiter]:
    limiter = RateLimiter(redis_url, limit_settings(), clock=clock)
    yield limiter
    await limiter.close()


async def test_a_budget_is_spent_exactly_and_refusals_spend_nothing(limiter: RateLimiter) -> None:
    who = fresh()
    first = await limiter.charge(who, 60)
    assert (first.allowed, first.limit, first.remaining, first.reset_seconds) == (True, 100, 40, 60)
    assert first.retry_after is None
    refused = await limiter.charge(who, 41)
    assert (refused.allowed, refused.remaining, refused.retry_after, refused.http_status) == (
        False,
        40,
        60,
        429,
    )
    # The refused request spent nothing: a request that fits still goes through.
    last = await limiter.charge(who, 40)
    assert (last.allowed, last.remaining) == (True, 0)
    assert (await limiter.charge(who, 1)).allowed is False
    assert (await limiter.charge(who, 0)).allowed is True


async def test_the_window_resets_on_the_clock(limiter: RateLimiter, clock: FakeClock) -> None:
    who = fresh()
    assert (await limiter.charge(who, 100)).allowed
    clock.advance(59.5)
    late = await limiter.charge(who, 1)
    assert (late.allowed, late.reset_seconds) == (False, 1)
    clock.advance(0.5)  # the next window starts
    fresh_window = await limiter.charge(who, 1)
    assert (fresh_window.allowed, fresh_window.remaining, fresh_window.reset_seconds) == (True, 99, 60)


async def test_keys_and_addresses_have_their_own_default_budgets(limiter: RateLimiter) -> None:
    key = await limiter.charge(fresh("key"), 500)
    address = await limiter.charge(fresh("address"), 500)
    assert (key.allowed, key.limit, key.remaining) == (True, 1_000, 500)
    assert (address.allowed, address.limit) == (False, 100)


async def test_a_key_budget_set_by_an_admin_applies(limiter: RateLimiter) -> None:
    name = f"budgeted-{uuid.uuid4().hex}"
    generous = Principal(key_name=name, scope=ApiKeyScope.READ, rate_limit=5_000)
    address = fresh_address()
    decision = await limiter.charge_caller(generous, address, 4_000)
    assert (decision.allowed, decision.limit, decision.remaining) == (True, 5_000, 1_000)
    # The key was charged, not the address it came from.
    assert (await limiter.charge(address_identity(address), 0)).remaining == 100
    assert (await limiter.charge(key_identity(name), 0, limit=5_000)).remaining == 1_000
    default = Principal(key_name=f"plain-{uuid.uuid4().hex}", scope=ApiKeyScope.READ)
    assert (await limiter.charge_caller(default, None, 1)).limit == 1_000
    anonymous = await limiter.charge_caller(None, fresh_address(), 1)
    assert (anonymous.limit, anonymous.remaining) == (100, 99)


async def test_every_operation_costs_at_least_the_request_cost(redis_url: str, clock: FakeClock) -> None:
    limiter = RateLimiter(redis_url, limit_settings(rate_limit_request_cost=10), clock=clock)
    try:
        cheap = await limiter.charge_caller(None, fresh_address(), 0)
        dear = await limiter.charge_caller(None, fresh_address(), 25)
    finally:
        await limiter.close()
    assert (cheap.cost, cheap.remaining) == (10, 90)
    assert (dear.cost, dear.remaining) == (25, 75)


async def test_two_hundred_concurrent_charges_never_overspend(redis_url: str, clock: FakeClock) -> None:
    # Two limiters with their own connections, as two API processes would be.
    limiters = [
        RateLimiter(redis_url, limit_settings(rate_limit_anonymous_budget=50), clock=clock) for _ in "ab"
    ]
    who = fresh()
    try:
        decisions = await asyncio.gather(*(limiters[i % 2].charge(who, 1) for i in range(200)))
    finally:
        for limiter in limiters:
            await limiter.close()
    allowed = [d for d in decisions if d.allowed]
    assert len(allowed) == 50
    assert sorted(d.remaining for d in allowed) == list(range(50))
    assert all(d.remaining == 0 for d in decisions if not d.allowed)


async def test_concurrent_charges_travel_together_and_each_is_exact(redis_url: str, clock: FakeClock) -> None:
    """Charges that arrive while a pipeline is in flight go in the next one, each its own charge."""
    limiter = RateLimiter(redis_url, limit_settings(rate_limit_anonymous_budget=30), clock=clock)
    who = [fresh() for _ in range(3)]
    try:
        decisions = await asyncio.gather(*(limiter.charge(who[i % 3], 1 + i % 3) for i in range(120)))
        trips = limiter._counters.round_trips
    finally:
        await limiter.close()
    for n in range(len(who)):
        mine = decisions[n::3]
        allowed = [d for d in mine if d.allowed]
        # costs 1, 2 and 3 against a budget of 30: 30, 15 and 10 charges fit, in arrival order
        assert len(allowed) == 30 // (n + 1)
        assert mine[: len(allowed)] == allowed
        assert sorted(d.remaining for d in allowed) == list(range(0, 30, n + 1))
    assert trips < 10, trips


async def test_a_batch_survives_redis_forgetting_the_script_and_charges_once(redis_url: str) -> None:
    """Batches send EVALSHA without asking first whether Redis has the script; when it has lost it
    (a restart, SCRIPT FLUSH) the script is loaded and only the refused charges are sent again."""
    from redis.asyncio import Redis

    from budgraph.ratelimit.counters import RedisCounters

    counters = RedisCounters(redis_url, timeout=1.0, purpose="test", fail_open=False)
    admin = Redis.from_url(redis_url)
    key = f"budgraph:test:{uuid.uuid4().hex}"
    loop = asyncio.get_running_loop()
    try:
        await admin.script_flush()
        batch = [(key, 3, 100, 60_000, 0, loop.create_future()) for _ in range(5)]
        results = await counters._pipelined(batch)
        used = int(await admin.get(key) or 0)
    finally:
        await counters.close()
        await admin.delete(key)
        await admin.aclose()
    assert [(int(c), int(after), int(granted)) for c, after, granted in results] == [
        (1, 3 * n, 0) for n in range(1, 6)
    ]
    assert used == 15  # each charge ran once


async def test_a_cost_over_the_whole_budget_says_so(limiter: RateLimiter) -> None:
    decision = await limiter.charge(fresh(), 101)
    error = decision.refusal()
    assert error.code is ErrorCode.RATE_LIMITED
    assert error.message == "this request costs 101, more than the whole budget of 100 per 60 s; ask for less"


async def test_refusal_and_headers(limiter: RateLimiter, clock: FakeClock) -> None:
    who = fresh()
    clock.advance(15)
    allowed = await limiter.charge(who, 70)
    assert rate_limit_headers(allowed) == {
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "30",
        "RateLimit-Reset": "45",
        "RateLimit-Policy": "100;w=60",
    }
    assert allowed.extension() == {"limit": 100, "remaining": 30, "resetSeconds": 45, "cost": 70}
    refused = await limiter.charge(who, 31)
    assert rate_limit_headers(refused) == {
        "RateLimit-Limit": "100",
        "RateLimit-Remaining": "30",
        "RateLimit-Reset": "45",
        "RateLimit-Policy": "100;w=60",
        "Retry-After": "45",
    }
    error = refused.refusal()
    assert error.message == (
        "over the rate limit: 30 of 100 left in this 60 s window and this request costs 31; retry in 45 s"
    )
    assert error.extensions == {
        "code": "RATE_LIMITED",
        "limit": 100,
        "remaining": 30,
        "resetSeconds": 45,
        "retryAfter": 45,
        "cost": 31,
    }
    with pytest.raises(ValueError, match="no refusal"):
        allowed.refusal()


async def test_negative_costs_are_a_bug(limiter: RateLimiter) -> None:
    with pytest.raises(ValueError, match="never negative"):
        await limiter.charge(fresh(), -1)


@pytest.mark.parametrize(
    ("address", "identity"),
    [
        ("203.0.113.9", "address:203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "address:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "address:2001:db8:1:2::/64"),
        ("2001:db8:1:3::1", "address:2001:db8:1:3::/64"),
        ("::ffff:203.0.113.9", "address:203.0.113.9"),
        ("[2001:db8::5]", "address:2001:db8::/64"),
        (None, "address:unknown"),
        ("unix-socket", "address:unix-socket"),
    ],
)
def test_addresses_are_counted_per_host(address: str | None, identity: str) -> None:
    # An IPv6 host usually holds a whole /64: its addresses share one budget.
    assert address_identity(address) == identity


def test_key_identities_never_look_like_addresses() -> None:
    assert key_identity("ann") == "key:ann"
    assert not key_identity("1.2.3.4").startswith("address:")
