"""``GET /readyz``: 200 when the registry can do its work, else 503 naming what is missing.

``/healthz`` stays the cheap liveness check (is this process serving); a load balancer or an
orchestrator asks ``/readyz`` whether to send work here, and an operator reads its ``problems``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from budgraph import __version__
from budgraph.health.readiness import readiness
from budgraph.kit.db import RequestSession
from budgraph.settings import Settings


def health_routes(sessions: async_sessionmaker[RequestSession], settings: Settings) -> list[BaseRoute]:
    async def ready(_: Request) -> JSONResponse:
        result = await readiness(sessions, settings)
        return JSONResponse(result.as_json(__version__), status_code=200 if result.ok else 503)

    return [Route("/readyz", ready, methods=["GET"])]
