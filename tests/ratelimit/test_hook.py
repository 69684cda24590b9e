"""The limiter as the executor's charge hook, served through the GraphQL endpoint: answers carry
the RateLimit fields and ``extensions.rateLimit``; over budget is HTTP 429 RATE_LIMITED; a key's
own budget (set by an admin) applies from its next request; Redis down fails as configured."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.routing import Route

from budgraph import db
from budgraph.auth.service import create_key, set_rate_limit
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.context import Context
from budgraph.graphql.endpoint import GraphQLEndpoint
from budgraph.graphql.execution import Executor
from budgraph.graphql.principals import Authenticator
from budgraph.graphql.schema import schema
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.ratelimit import AuthFailureThrottle, RateLimiter, charge_hook
from budgraph.ratelimit.authenticator import ThrottledAuthenticator
from budgraph.settings import Settings
from budgraph.storage import LocalObjectStore
from tests.ratelimit.conftest import FakeClock, limit_settings

QUERY = "{ registryVersion }"
Serve = Callable[..., httpx.AsyncClient]


def fresh_address() -> str:
    bits = uuid.uuid4().hex
    return f"2001:db8:{bits[:4]}:{bits[4:8]}::1"


@pytest.fixture
async def served(
    sessions: async_sessionmaker[RequestSession],
    queue: ArqJobQueue,
    store: LocalObjectStore,
    clock: FakeClock,
) -> AsyncIterator[Serve]:
    """An endpoint whose executor charges through a RateLimiter, for a client at a fresh address."""
    opened: list[tuple[RateLimiter, httpx.AsyncClient]] = []

    def serve(redis_url: str, settings: Settings, address: str | None = None) -> httpx.AsyncClient:
        limiter = RateLimiter(redis_url, settings, clock=clock, reconnect_interval=0)
        template = Context(settings=settings, queue=queue, sessions=sessions, store=store)
        endpoint = GraphQLEndpoint(
            Executor(schema, settings, charge=charge_hook(limiter)), Authenticator(sessions), template
        )
        app = Starlette(routes=[Route("/graphql", endpoint.handle, methods=["GET", "POST"])])
        transport = httpx.ASGITransport(app=app, client=(address or fresh_address(), 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://test")
        opened.append((limiter, http))
        return http

    yield serve
    for limiter, http in opened:
        await http.aclose()
        await limiter.close()


async def post(http: httpx.AsyncClient, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.post("/graphql", json={"query": QUERY}, headers=headers)


def rate_fields(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith(("ratelimit", "retry-after"))}


async def test_anonymous_answers_report_the_budget_and_429_past_it(served: Serve, redis_url: str) -> None:
    http = served(redis_url, limit_settings(rate_limit_anonymous_budget=3))
    answers = [await post(http) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    body: dict[str, Any] = answers[-1].json()
    assert body["data"] == {"registryVersion": 0}
    assert body["extensions"]["rateLimit"] == {"limit": 3, "remaining": 0, "resetSeconds": 60, "cost": 1}
    assert rate_fields(answers[0]) == {
        "ratelimit-limit": "3",
        "ratelimit-remaining": "2",
        "ratelimit-reset": "60",
        "ratelimit-policy": "3;w=60",
    }
    over = await post(http)
    assert over.status_code == 429
    assert rate_fields(over)["retry-after"] == "60"
    [error] = over.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["message"] == (
        "over the rate limit: 0 of 3 left in this 60 s window and this request costs 1; retry in 60 s"
    )


async def test_a_key_spends_its_own_budget(served: Serve, redis_url: str, session: RequestSession) -> None:
    name = f"limited-{uuid.uuid4().hex[:12]}"
    token = await create_key(session, name, ApiKeyScope.READ)
    await session.commit()
    address = fresh_address()
    http = served(redis_url, limit_settings(rate_limit_anonymous_budget=1, rate_limit_key_budget=5), address)
    keyed = await post(http, token)
    assert keyed.json()["extensions"]["rateLimit"]["limit"] == 5
    # The key's use is audited with the address it came from.
    used = await session.execute(
        select(db.ApiKeyEvent.kind, db.ApiKeyEvent.client_address)
        .join(db.ApiKey, db.ApiKey.id == db.ApiKeyEvent.api_key_id)
        .where(db.ApiKey.name == name, db.ApiKeyEvent.kind == "used")
    )
    assert used.all() == [("used", address)]
    assert (await post(http)).status_code == 200  # the address's budget is its own
    assert (await post(http)).status_code == 429
    await set_rate_limit(session, name, 2, actor="admin")
    await session.commit()
    assert [(await post(http, token)).status_code for _ in range(2)] == [200, 429]


@pytest.mark.parametrize(("mode", "status"), [("open", 200), ("closed", 503)])
async def test_redis_down_fails_as_configured(
    served: Serve, refusing_redis_url: str, mode: str, status: int
) -> None:
    http = served(refusing_redis_url, limit_settings(rate_limit_when_redis_down=mode))
    answer = await post(http)
    assert answer.status_code == status
    if mode == "open":
        assert answer.json()["data"] == {"registryVersion": 0}
        assert rate_fields(answer) == {}
    else:
        assert answer.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert rate_fields(answer) == {"retry-after": "5"}


async def test_the_cost_charged_is_the_computed_cost_or_the_request_cost(
    served: Serve, redis_url: str
) -> None:
    http = served(redis_url, limit_settings(rate_limit_request_cost=10))
    scalar = (await post(http)).json()["extensions"]
    listed = (await http.post("/graphql", json={"query": "{ engines(first: 50) { nodes { slug } } }"})).json()
    assert (scalar["cost"]["requested"], scalar["rateLimit"]["cost"]) == (0, 10)
    assert listed["extensions"]["rateLimit"]["cost"] == listed["extensions"]["cost"]["requested"] > 10


async def test_guessing_keys_is_refused_before_any_lookup(
    sessions: async_sessionmaker[RequestSession],
    queue: ArqJobQueue,
    store: LocalObjectStore,
    clock: FakeClock,
    redis_url: str,
    session: RequestSession,
    statements: StatementCounter,
) -> None:
    good = await create_key(session, f"guarded-{uuid.uuid4().hex[:12]}", ApiKeyScope.READ)
    await session.commit()
    settings = limit_settings(auth_failure_limit=3)
    throttle = AuthFailureThrottle(redis_url, settings, clock=clock)
    template = Context(settings=settings, queue=queue, sessions=sessions, store=store)
    endpoint = GraphQLEndpoint(
        Executor(schema, settings), ThrottledAuthenticator(sessions, throttle), template
    )
    app = Starlette(routes=[Route("/graphql", endpoint.handle, methods=["POST"])])
    transport = httpx.ASGITransport(app=app, client=(fresh_address(), 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            guesses = [await post(http, f"bgk_{index:012x}_" + "A" * 43) for index in range(3)]
            assert [g.status_code for g in guesses] == [401, 401, 401]
            assert (await post(http)).status_code == 200  # no key, no attempt: reads stay open
            statements.reset()
            refused = await post(http, good)  # even the right key, until the window ends
            assert statements.count == 0
            assert refused.status_code == 429
            assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["RATE_LIMITED"]
            clock.advance(300)
            assert (await post(http, good)).status_code == 200
    finally:
        await throttle.close()
