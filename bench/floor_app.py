"""The floor: budgraph's answers from hand-written SQL behind a bare Starlette route with a raw asyncpg
pool. No GraphQL, no ORM, no loaders, one statement per request: the least work an answer takes.

Each scenario is `POST /<scenario>` with the same JSON body a GraphQL client sends (only
``variables`` is read), answered as ``{"data": ...}`` in budgraph's shape, so the benchmark checks
that the floor and budgraph agree before it times either.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any, NamedTuple, cast

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bench import floor_sql
from budgraph import db
from budgraph.compatibility.parsers import choose_parser
from budgraph.models.types import fact_field_name

PAGE = 100
Answer = Callable[[asyncpg.Pool, dict[str, Any]], Awaitable[dict[str, Any]]]


class Rule(NamedTuple):
    """A parser rule as `choose_parser` reads it (the floor has no ORM objects)."""

    id: int
    rule_type: str
    parser: str
    match_type: str
    pattern: str
    priority: int
    chat_template: str | None
    enabled: bool = True


def global_id(kind: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{pk}".encode()).decode().rstrip("=")


def decimal_text(value: Decimal) -> str:
    return format(value.normalize(), "f")


async def runtime_slice(pool: asyncpg.Pool, variables: dict[str, Any]) -> dict[str, Any]:
    rows = await pool.fetch(floor_sql.RUNTIME_SLICE, variables["arch"], "CUDA")
    model = variables.get("model")
    nodes = []
    for row in rows:
        rules = cast(list[db.ParserRule], [Rule(*rule) for rule in json.loads(row["rules"])])
        tool = choose_parser(rules, "tool", model, row["tool_call_parsers"], row["default_tool_call_parser"])
        reasoning = choose_parser(
            rules, "reasoning", model, row["reasoning_parsers"], row["default_reasoning_parser"]
        )
        nodes.append(
            {
                "engineVersion": {"version": row["version"], "engine": {"slug": row["slug"]}},
                "containerImage": row["container_image"],
                "toolCallParser": tool.parser,
                "reasoningParser": reasoning.parser,
                "supportsLora": row["supports_lora"],
                "supportsPipelineParallelism": row["supports_pipeline_parallelism"],
            }
        )
    return {"compatibleEngineVersions": {"nodes": nodes}}


async def latest_version(pool: asyncpg.Pool, variables: dict[str, Any]) -> dict[str, Any]:
    row = await pool.fetchrow(floor_sql.LATEST, variables["engine"], "CUDA")
    found = {"version": row["version"], "containerImage": row["container_image"]} if row else None
    return {"latestEngineVersion": found}


async def changes_since(pool: asyncpg.Pool, variables: dict[str, Any]) -> dict[str, Any]:
    rows = await pool.fetch(floor_sql.CHANGES, int(variables["since"]), PAGE + 1)
    found = [row for row in rows if row["id"] is not None]
    page = found[:PAGE]
    last = page[-1] if page else None
    cursor = f"change:{last['registry_version']}:{last['id']}" if last else None
    return {
        "changes": {
            "registryVersion": rows[0]["current"],
            "hasMore": len(found) > PAGE,
            "endCursor": base64.urlsafe_b64encode(cursor.encode()).decode() if cursor else None,
            "changes": [
                {
                    "registryVersion": row["registry_version"],
                    "entityKind": row["entity_kind"],
                    "entityId": global_id(row["entity_kind"], row["entity_id"]),
                    "operation": row["operation"].upper(),
                    "changedFields": row["changed_fields"],
                    "actor": row["actor"],
                }
                for row in page
            ],
        }
    }


async def dashboard(pool: asyncpg.Pool, variables: dict[str, Any]) -> dict[str, Any]:
    rows = await pool.fetch(floor_sql.DASHBOARD, 51)
    nodes = [
        {
            "uri": row["uri"],
            "license": {"key": row["license_key"], "name": row["license_name"]}
            if row["license_key"]
            else None,
            "architecture": {
                "className": row["class_name"],
                "engineVersions": {"nodes": json.loads(row["versions"])},
            }
            if row["class_name"]
            else None,
        }
        for row in rows[:50]
    ]
    total = rows[0]["total"] if rows else 0
    return {"models": {"totalCount": total, "pageInfo": {"hasNextPage": len(rows) > 50}, "nodes": nodes}}


async def leaderboard(pool: asyncpg.Pool, variables: dict[str, Any]) -> dict[str, Any]:
    rows = await pool.fetch(floor_sql.LEADERBOARD, variables["benchmark"], PAGE)
    nodes = [
        {
            "score": decimal_text(row["score"]),
            "rank": row["rank"],
            "position": row["position"],
            "rawModelName": row["raw_model_name"],
            "model": {
                "uri": row["uri"],
                "license": {"key": row["license_key"]} if row["license_key"] else None,
            }
            if row["uri"]
            else None,
        }
        for row in rows
    ]
    return {"leaderboard": {"totalCount": rows[0]["total"] if rows else 0, "nodes": nodes}}


async def model(pool: asyncpg.Pool, variables: dict[str, Any]) -> dict[str, Any]:
    row = await pool.fetchrow(floor_sql.MODEL, variables["uri"])
    if row is None:
        return {"model": None}
    facts = json.loads(row["fact_sources"])
    return {
        "model": {
            "uri": row["uri"],
            "parameterCount": row["parameter_count"],
            "contextLength": row["context_length"],
            "license": json.loads(row["license"]) if row["license"] else None,
            "architecture": json.loads(row["architecture"]) if row["architecture"] else None,
            "files": {"nodes": json.loads(row["files"])},
            "jobs": {"nodes": json.loads(row["jobs"])},
            "scanResults": {"nodes": json.loads(row["scans"])},
            "scores": json.loads(row["scores"]),
            "factSources": sorted(
                ({"field": fact_field_name(key), "source": value} for key, value in facts.items()),
                key=lambda fact: fact["field"],
            ),
        }
    }


ANSWERS: dict[str, Answer] = {
    "runtime_slice": runtime_slice,
    "latest_version": latest_version,
    "changes_since": changes_since,
    "dashboard": dashboard,
    "leaderboard": leaderboard,
    "model": model,
}


class FloorConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset (`RESET ALL; UNLISTEN *; ...`, one more
    round trip per request): the floor never changes session state, so there is nothing to reset."""

    async def reset(self, *, timeout: float | None = None) -> None:  # noqa: ASYNC109 (asyncpg's signature)
        return None


def create_floor_app(dsn: str, pool_size: int = 10) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(
            dsn, min_size=pool_size, max_size=pool_size, connection_class=FloorConnection
        )
        yield
        await app.state.pool.close()

    def route(answer: Answer) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            body = orjson.loads(await request.body())
            data = await answer(request.app.state.pool, body.get("variables") or {})
            return Response(orjson.dumps({"data": data}), media_type="application/json")

        return endpoint

    routes = [Route(f"/{key}", route(answer), methods=["POST"]) for key, answer in ANSWERS.items()]
    return Starlette(routes=routes, lifespan=lifespan)


def app() -> Starlette:
    """uvicorn's factory: ``uvicorn --factory bench.floor_app:app`` (BENCH_FLOOR_DSN names the database)."""
    return create_floor_app(os.environ["BENCH_FLOOR_DSN"], int(os.environ.get("BENCH_FLOOR_POOL", "10")))
