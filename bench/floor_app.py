"""The floor: the same answers as the benchmark's GraphQL queries, from hand-written SQL behind a bare
Starlette route with a raw asyncpg pool. No GraphQL, no ORM, no loaders: the least work possible."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

LATEST = """
SELECT v.version, v.container_image FROM engine_version v JOIN engine e ON e.id = v.engine_id
WHERE e.slug = $1 AND v.device_architecture = $2 AND v.status = 'active'
ORDER BY v.version_key COLLATE "C" DESC, v.id DESC LIMIT 1
"""
COMPATIBLE = """
SELECT v.engine_id, e.slug, v.version, v.container_image, a.supports_lora, a.supports_pipeline_parallelism
FROM engine_version v
JOIN engine e ON e.id = v.engine_id
JOIN compatibility_edge c ON c.engine_version_id = v.id
JOIN model_architecture a ON a.id = c.architecture_id
WHERE a.class_name = $1 AND v.device_architecture = $2 AND v.status = 'active'
ORDER BY v.engine_id, v.version_key COLLATE "C" DESC, v.id DESC LIMIT 20
"""
RULES = "SELECT rule_type, parser, match_type, pattern, priority FROM parser_rule WHERE enabled AND engine_id = ANY($1)"
MODELS = """
SELECT m.uri, m.parameter_count, l.key, a.class_name, a.family
FROM model m LEFT JOIN license l ON l.id = m.license_id LEFT JOIN model_architecture a ON a.class_name = m.architecture
ORDER BY m.uri, m.id LIMIT 100
"""


def create_floor_app(dsn: str) -> Starlette:
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state["pool"] = await asyncpg.create_pool(dsn, min_size=2, max_size=10)
        yield
        await state["pool"].close()

    async def latest(request: Request) -> JSONResponse:
        row = await state["pool"].fetchrow(
            LATEST, request.query_params["engine"], request.query_params["device"]
        )
        return JSONResponse(
            {"version": row["version"], "containerImage": row["container_image"]} if row else None
        )

    async def compatible(request: Request) -> JSONResponse:
        async with state["pool"].acquire() as connection:
            rows = await connection.fetch(
                COMPATIBLE, request.query_params["architecture"], request.query_params["device"]
            )
            rules = await connection.fetch(RULES, list({row["engine_id"] for row in rows}))
        return JSONResponse({"versions": [dict(r) for r in rows], "rules": len(rules)})

    async def models(_: Request) -> JSONResponse:
        rows = await state["pool"].fetch(MODELS)
        return JSONResponse([dict(r) for r in rows])

    return Starlette(
        routes=[Route("/latest", latest), Route("/compatible", compatible), Route("/models", models)],
        lifespan=lifespan,
    )


app = create_floor_app(os.environ.get("BENCH_FLOOR_DSN", ""))
