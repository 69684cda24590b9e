"""Failed authentications are throttled per address: past the limit the address is refused before
its key is looked up (no SQL at all), until the window ends."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from budgraph.auth.service import authenticate, create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.kit.errors import BudgraphError, ErrorCode, Unauthenticated
from budgraph.ratelimit import AuthFailureThrottle, RateLimitRefusal, rate_limit_headers
from tests.ratelimit.conftest import FakeClock, limit_settings


def fresh_address() -> str:
    bits = uuid.uuid4().hex
    return f"2001:db8:{bits[:4]}:{bits[4:8]}::{bits[8:12]}"


@pytest.fixture
async def throttle(redis_url: str, clock: FakeClock) -> AsyncIterator[AuthFailureThrottle]:
    throttle = AuthFailureThrottle(redis_url, limit_settings(auth_failure_limit=5), clock=clock)
    yield throttle
    await throttle.close()


async def guarded(
    throttle: AuthFailureThrottle, session: RequestSession, address: str, authorization: str
) -> object:
    async with throttle.guard(address):
        return await authenticate(session, authorization, address=address)


async def test_an_address_is_refused_before_any_lookup_after_n_failures(
    throttle: AuthFailureThrottle,
    session: RequestSession,
    statements: StatementCounter,
    clock: FakeClock,
) -> None:
    good = await create_key(session, "throttled-reader", ApiKeyScope.READ)
    address = fresh_address()
    guess = "Bearer bgk_0123456789ab_" + "A" * 43
    for _ in range(5):
        with pytest.raises(Unauthenticated):
            await guarded(throttle, session, address, guess)
    statements.reset()
    with pytest.raises(RateLimitRefusal) as refused:
        await guarded(throttle, session, address, f"Bearer {good}")  # even the right key
    assert statements.count == 0
    assert (
        refused.value.message
        == "too many failed authentications from this address (5 per 300 s); retry in 300 s"
    )
    assert refused.value.extensions == {
        "code": "RATE_LIMITED",
        "limit": 5,
        "remaining": 0,
        "resetSeconds": 300,
        "retryAfter": 300,
        "cost": 1,
    }
    check = await throttle.check(address)
    assert rate_limit_headers(check) == {
        "RateLimit-Limit": "5",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "300",
        "RateLimit-Policy": "5;w=300",
        "Retry-After": "300",
    }
    # Another host is not affected; the next window lets this one try again.
    assert await guarded(throttle, session, fresh_address(), f"Bearer {good}") is not None
    clock.advance(300)
    assert await guarded(throttle, session, address, f"Bearer {good}") is not None


async def test_only_failed_authentications_count(
    throttle: AuthFailureThrottle, session: RequestSession
) -> None:
    good = await create_key(session, "counted-reader", ApiKeyScope.READ)
    address = fresh_address()
    for _ in range(10):
        await guarded(throttle, session, address, f"Bearer {good}")
    with pytest.raises(ValueError, match="unrelated"):
        async with throttle.guard(address):
            raise ValueError("unrelated")
    assert (await throttle.check(address)).remaining == 5
    with pytest.raises(Unauthenticated):
        await guarded(throttle, session, address, "Basic abc")
    after = await throttle.record_failure(address)
    assert (after.allowed, after.remaining) == (True, 3)


async def test_one_ipv6_host_shares_one_count(throttle: AuthFailureThrottle) -> None:
    bits = uuid.uuid4().hex
    network = f"2001:db8:{bits[:4]}:{bits[4:8]}"
    for host in range(5):
        await throttle.record_failure(f"{network}::{host + 1}")
    decision = await throttle.check(f"{network}:ffff:ffff:ffff:ffff")
    assert (decision.allowed, decision.http_status) == (False, 429)
    with pytest.raises(BudgraphError) as refused:
        async with throttle.guard(f"{network}::99"):
            pass
    assert refused.value.code is ErrorCode.RATE_LIMITED
