"""Rate limits as the app is served: the wiring of the limiter and the failed-authentication throttle.

Given the app served for real with a small anonymous budget, when one address spends it, then its
next request is a 429 RATE_LIMITED with the IETF RateLimit fields and `Retry-After`, every answer
reported what was left (also over the WebSocket), and a caller with a key has a budget of its own;
when an address keeps guessing keys, it is refused before any key is looked up.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.ratelimit.counters import window_at
from budgraph.settings import Settings
from tests.conftest import live_key
from tests.live import graphql_ws, serve

CHEAP = {"query": "{ registryVersion }"}


async def test_an_address_over_its_budget_is_refused_with_429_and_told_when_to_come_back(
    live_settings: Settings, live_url: str
) -> None:
    settings = live_settings.model_copy(
        update={"rate_limit_anonymous_budget": 50, "rate_limit_request_cost": 10}
    )
    with serve(create_app(settings)) as live:
        key = await live_key(live_url, "metered", ApiKeyScope.READ)
        async with httpx.AsyncClient(base_url=live.http) as client:
            answers = [await client.post("/graphql", json=CHEAP) for _ in range(5)]
            refused = await client.post("/graphql", json=CHEAP)
            with_key = await client.post("/graphql", json=CHEAP, headers={"Authorization": f"Bearer {key}"})
        async with graphql_ws(live.ws, {"Authorization": f"Bearer {key}"}) as ws:
            over_ws = await ws.operate("1", CHEAP["query"])

    remaining = [a.json()["extensions"]["rateLimit"]["remaining"] for a in answers]
    assert remaining == [40, 30, 20, 10, 0]
    assert all(a.headers["RateLimit-Limit"] == "50" for a in answers)
    assert refused.status_code == 429
    body: dict[str, Any] = refused.json()
    assert body["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["RateLimit-Remaining"] == "0"
    assert with_key.status_code == 200
    assert over_ws[0]["payload"]["extensions"]["rateLimit"]["limit"] == settings.rate_limit_key_budget


async def _clear_of_a_window_edge(length: int, margin: float = 3.0) -> None:
    """Wait out the end of a fixed window, so a burst falls in one window (one straddling two
    gets two budgets, as a fixed window means to)."""
    now = time.time()
    remaining = (window_at(now, length).index + 1) * length - now
    if remaining < margin:
        await asyncio.sleep(remaining + 0.05)


async def test_guessing_keys_is_throttled_per_address(live_settings: Settings) -> None:
    settings = live_settings.model_copy(update={"auth_failure_limit": 5})
    with serve(create_app(settings)) as live:
        async with httpx.AsyncClient(base_url=live.http) as client:
            await _clear_of_a_window_edge(settings.auth_failure_window_seconds)
            guesses = await asyncio.gather(
                *(
                    client.post(
                        "/graphql", json=CHEAP, headers={"Authorization": f"Bearer bgk_guess{n}_secret"}
                    )
                    for n in range(40)
                )
            )
            anonymous = await client.post("/graphql", json=CHEAP)
    statuses = [g.status_code for g in guesses]
    assert statuses.count(401) == 5
    assert statuses.count(429) == 35
    throttled = next(g for g in guesses if g.status_code == 429)
    assert throttled.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    assert "Retry-After" in throttled.headers
    # Reads without a key are not what is throttled.
    assert anonymous.status_code == 200
