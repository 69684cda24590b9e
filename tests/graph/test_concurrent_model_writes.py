"""Identical concurrent creates of models and aliases, against the app served for real: every call
gets the same answer (PostgreSQL's unique indexes decide which insert wins; the others read it)."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx

from budgraph.db.enums import ApiKeyScope
from tests.conftest import live_key
from tests.live import LiveServer, plain_dsn

REGISTER = """
mutation ($uri: String!) {
  registerModel(input: {uri: $uri}) { model { id uri revision status } job { id kind status target } }
}
"""
ADD_ALIAS = """
mutation ($alias: String!, $model: ID!) {
  addModelAlias(alias: $alias, modelId: $model) { alias model { id uri } linkedEntries }
}
"""
CALLS = 50


async def _post_all(
    live: LiveServer, key: str, calls: list[tuple[str, dict[str, Any]]]
) -> list[dict[str, Any]]:
    limits = httpx.Limits(max_connections=CALLS)
    async with httpx.AsyncClient(base_url=live.http, timeout=60, limits=limits) as client:

        async def post(query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await client.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body

        return list(await asyncio.gather(*(post(query, variables) for query, variables in calls)))


async def _count(url: str, sql: str) -> int:
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        count: int = await connection.fetchval(sql)
    finally:
        await connection.close()
    return count


async def test_fifty_identical_register_model_calls_get_one_answer(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "racer", ApiKeyScope.WRITE)

    answers = await _post_all(live, key, [(REGISTER, {"uri": "budtest/Racy-Model"})] * CALLS)

    assert [answer.get("errors") for answer in answers] == [None] * CALLS
    assert len({repr(answer["data"]) for answer in answers}) == 1
    assert await _count(live_url, "SELECT count(*) FROM model") == 1
    assert await _count(live_url, "SELECT count(*) FROM job") == 1
    assert await _count(live_url, "SELECT count(*) FROM change_log WHERE entity_kind = 'Model'") == 1

    # the same Hub id in other casings, all at once: still that one model and its job
    casings = ["budtest/racy-model", "BUDTEST/RACY-MODEL", "budtest/Racy-Model"]
    mixed = await _post_all(live, key, [(REGISTER, {"uri": casings[n % 3]}) for n in range(CALLS)])
    assert [answer.get("errors") for answer in mixed] == [None] * CALLS
    assert {repr(answer["data"]) for answer in mixed} == {repr(answers[0]["data"])}
    assert await _count(live_url, "SELECT count(*) FROM model") == 1


async def test_fifty_identical_add_model_alias_calls_get_one_answer(live: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "racer", ApiKeyScope.WRITE)
    [registered] = await _post_all(live, key, [(REGISTER, {"uri": "budtest/aliased"})])
    model_id = registered["data"]["registerModel"]["model"]["id"]

    variables = {"alias": "Aliased Model 2024-05-13", "model": model_id}
    answers = await _post_all(live, key, [(ADD_ALIAS, variables)] * CALLS)

    assert [answer.get("errors") for answer in answers] == [None] * CALLS
    assert {repr(answer["data"]) for answer in answers} == {
        repr(
            {
                "addModelAlias": {
                    "alias": "Aliased Model 2024-05-13",
                    "model": {"id": model_id, "uri": "budtest/aliased"},
                    "linkedEntries": 0,
                }
            }
        )
    }
    assert await _count(live_url, "SELECT count(*) FROM model_alias") == 1
