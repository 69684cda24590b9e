"""Redis down: the configured fail mode (open or closed), logged once per outage, a bounded wait,
and enforcement again once Redis is back, without a restart."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid

import pytest

from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.ratelimit import AuthFailureThrottle, RateLimiter, rate_limit_headers
from tests.ratelimit.conftest import FakeClock, OwnRedis, limit_settings

LOGGER = "budgraph.ratelimit"


def outage_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


async def test_failing_open_lets_requests_through_and_logs_once(
    refusing_redis_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    # reconnect_interval=0: every charge really tries Redis, and still only one line is logged.
    limiter = RateLimiter(
        refusing_redis_url,
        limit_settings(rate_limit_when_redis_down="open"),
        clock=clock,
        reconnect_interval=0,
    )
    try:
        decisions = [await limiter.charge("address:198.51.100.1", 10_000) for _ in range(20)]
    finally:
        await limiter.close()
    assert all(d.allowed and not d.enforced for d in decisions)
    assert rate_limit_headers(decisions[0]) == {}
    assert decisions[0].extension() is None
    assert decisions[0].http_status == 200
    port = refusing_redis_url.rsplit(":", 1)[1].split("/")[0]
    [line] = outage_lines(caplog)
    assert line.startswith(f"rate limits: Redis at 127.0.0.1:{port}/0 is unreachable (ConnectionError: ")
    assert line.endswith("; letting requests through unlimited until it is back")


async def test_failing_closed_refuses_with_a_typed_503(
    refusing_redis_url: str, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    limiter = RateLimiter(
        refusing_redis_url,
        limit_settings(rate_limit_when_redis_down="closed"),
        clock=clock,
        reconnect_interval=0,
    )
    try:
        decisions = [await limiter.charge("address:198.51.100.2", 1) for _ in range(5)]
    finally:
        await limiter.close()
    assert all(not d.allowed and not d.enforced for d in decisions)
    decision = decisions[0]
    assert (decision.http_status, decision.retry_after) == (503, 5)
    assert rate_limit_headers(decision) == {"Retry-After": "5"}
    error = decision.refusal()
    assert error.code is ErrorCode.SERVICE_UNAVAILABLE
    assert error.message == "query cost cannot be counted right now; retry in 5 s"
    assert error.extensions == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5}
    [line] = outage_lines(caplog)
    assert line.endswith("; refusing requests until it is back")


@pytest.mark.parametrize("mode", ["open", "closed"])
async def test_the_failed_authentication_throttle_fails_the_same_way(
    refusing_redis_url: str, clock: FakeClock, mode: str
) -> None:
    throttle = AuthFailureThrottle(
        refusing_redis_url, limit_settings(rate_limit_when_redis_down=mode), clock=clock, reconnect_interval=0
    )
    looked_up = False
    try:
        if mode == "open":
            async with throttle.guard("198.51.100.3"):
                looked_up = True
            assert (await throttle.record_failure("198.51.100.3")).allowed
        else:
            with pytest.raises(BudgraphError) as refused:
                async with throttle.guard("198.51.100.3"):
                    looked_up = True
            assert refused.value.code is ErrorCode.SERVICE_UNAVAILABLE
            assert refused.value.message == "failed authentications cannot be counted right now; retry in 5 s"
    finally:
        await throttle.close()
    assert looked_up is (mode == "open")


async def test_an_outage_costs_one_timeout_not_one_per_request(clock: FakeClock) -> None:
    # A Redis that accepts connections and never answers (a stalled server).
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RateLimiter(
        f"redis://127.0.0.1:{port}/0", limit_settings(rate_limit_redis_timeout_seconds=0.3), clock=clock
    )
    try:
        started = time.monotonic()
        first = await limiter.charge("address:198.51.100.4", 1)
        first_took = time.monotonic() - started
        started = time.monotonic()
        rest = [await limiter.charge("address:198.51.100.4", 1) for _ in range(50)]
        rest_took = time.monotonic() - started
    finally:
        await limiter.close()
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()
    assert (first.allowed, first.enforced) == (True, False)
    assert 0.25 <= first_took < 2.0
    assert all(d.allowed and not d.enforced for d in rest)
    assert rest_took < 0.1


async def test_limits_are_enforced_again_when_redis_is_back(
    own_redis: OwnRedis, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    settings = limit_settings(rate_limit_when_redis_down="open", rate_limit_anonymous_budget=3)
    limiter = RateLimiter(own_redis.url, settings, clock=clock, reconnect_interval=0.05)
    who = f"address:test-{uuid.uuid4().hex}"
    try:
        assert [(await limiter.charge(who, 1)).enforced for _ in range(2)] == [True, True]
        own_redis.stop()
        down = [await limiter.charge(who, 1) for _ in range(10)]
        assert all(d.allowed and not d.enforced for d in down)
        own_redis.start()
        await asyncio.sleep(0.1)
        back = [await limiter.charge(who, 1) for _ in range(4)]
    finally:
        await limiter.close()
    # The restarted server kept nothing (no persistence), so the window starts over: 3 fit, 1 does not.
    assert [(d.enforced, d.allowed) for d in back] == [(True, True)] * 3 + [(True, False)]
    lines = outage_lines(caplog)
    assert len(lines) == 2
    assert "is unreachable" in lines[0]
    assert "is reachable again after" in lines[1]


async def test_a_redis_restart_between_requests_is_not_an_outage(
    own_redis: OwnRedis, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    limiter = RateLimiter(own_redis.url, limit_settings(), clock=clock)
    try:
        assert (await limiter.charge("address:198.51.100.5", 1)).enforced
        own_redis.stop()
        own_redis.start()
        # The pooled connection died with the old server; it is replaced, and nothing is logged.
        assert (await limiter.charge("address:198.51.100.5", 1)).enforced
    finally:
        await limiter.close()
    assert outage_lines(caplog) == []
