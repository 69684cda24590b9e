"""The predecessor's leaderboard routes, now for the Dapr cron binding and operators.

- ``OPTIONS /leaderboard/extraction-cron``: Dapr's probe that the app takes the input binding.
- ``POST /leaderboard/extraction-cron``: the weekly cron. It only enqueues, with one job per ISO week,
  so several replicas firing, or Dapr retrying, still run one refresh. Only the Dapr sidecar (its app
  API token, the ``dapr-api-token`` header) or an operator's write key may call it.
- ``GET /leaderboard/extraction-cron/health``: last run per source, next due, errors.
- ``POST /leaderboard/extraction-cron/trigger``: an operator's refresh (write scope), optionally
  ``{"sources": [...], "force": true}``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from budgraph import db
from budgraph.auth.keys import Principal
from budgraph.auth.service import authenticate
from budgraph.db.enums import ApiKeyScope
from budgraph.jobs.queue import JobQueue
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.kit.ids import to_global_id
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.leaderboards.refresh import REFRESH_INTERVAL
from budgraph.leaderboards.schedule import manual_key, request_refresh, week_key
from budgraph.leaderboards.sources import SOURCES

CRON_ROUTE = "/leaderboard/extraction-cron"


def _job(job: db.Job, created: bool) -> dict[str, Any]:
    return {
        "job": to_global_id("Job", job.id),
        "status": job.status,
        "created": created,
        "key": job.dedupe_key,
    }


def _error(error: BudgraphError, status: int) -> JSONResponse:
    body = {"error": error.message, "code": error.code.value}
    if "field" in error.extensions:
        body["field"] = error.extensions["field"]
    return JSONResponse(body, status_code=status)


TRIGGER_BODY = 'send a JSON object such as {"sources": ["lmarena"], "force": true}, or nothing'


def trigger_request(body: bytes) -> tuple[list[str] | None, bool]:
    """The sources (None: all) and ``force`` (default true) of a trigger's body, checked."""
    try:
        parsed = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BudgraphError(f"the body is not JSON: {TRIGGER_BODY}") from None
    if not isinstance(parsed, dict):
        raise BudgraphError(f"the body is not a JSON object: {TRIGGER_BODY}")
    unknown_fields = sorted(set(parsed) - {"sources", "force"})
    if unknown_fields:
        raise BudgraphError(f"unknown fields {', '.join(unknown_fields)}: {TRIGGER_BODY}")
    sources, force = parsed.get("sources"), parsed.get("force", True)
    if not isinstance(force, bool):
        raise BudgraphError("`force` must be true or false", field="force")
    if sources is not None:
        if not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources):
            raise BudgraphError("`sources` must be a non-empty list of source keys", field="sources")
        unknown = sorted(set(sources) - set(SOURCES))
        if unknown:
            named = ", ".join(repr(key[:40]) for key in unknown[:5])
            raise BudgraphError(
                f"unknown leaderboard sources: {named} (known: {', '.join(sorted(SOURCES))})",
                field="sources",
            )
        sources = sorted(set(sources))
    return sources, force


def _dapr_sidecar(request: Request, token: str | None) -> bool:
    """Whether the request carries the Dapr sidecar's app API token (compared in constant time)."""
    given = request.headers.get("dapr-api-token")
    return token is not None and given is not None and hmac.compare_digest(given.encode(), token.encode())


def leaderboard_routes(
    sessions: async_sessionmaker[RequestSession], queue: JobQueue, dapr_token: str | None = None
) -> list[Route]:
    async def caller(request: Request, needed: ApiKeyScope) -> Principal | JSONResponse:
        """The API key of the request, which must hold ``needed``; or the refusal to answer with."""
        try:
            async with UnitOfWork(sessions, actor="anonymous") as uow:
                principal = await authenticate(uow.session, request.headers.get("authorization"))
        except BudgraphError as error:
            return _error(error, 401)
        if principal is None:
            message = f"an API key with the `{needed.value}` scope is required"
            return _error(BudgraphError(message, code=ErrorCode.UNAUTHENTICATED), 401)
        if not principal.allows(needed):
            message = f"the API key {principal.key_name!r} does not have the `{needed.value}` scope"
            return _error(BudgraphError(message, code=ErrorCode.FORBIDDEN), 403)
        return principal

    async def enqueue(
        key: str, actor: str, sources: list[str] | None, force: bool, once: bool
    ) -> tuple[db.Job, bool]:
        async with UnitOfWork(sessions, actor=actor) as uow:
            job, created = await request_refresh(uow, queue, key, actor, sources, force, once)
        return job, created

    async def probe(_: Request) -> Response:
        return Response(status_code=200)

    async def cron(request: Request) -> JSONResponse:
        # The Dapr sidecar (by its app API token), or an operator with a write key; nobody else.
        actor = "dapr:cron"
        if not _dapr_sidecar(request, dapr_token):
            principal = await caller(request, ApiKeyScope.WRITE)
            if isinstance(principal, JSONResponse):
                return principal
            actor = principal.key_name
        job, created = await enqueue(week_key(now()), actor, None, False, once=True)
        return JSONResponse(_job(job, created))

    async def trigger(request: Request) -> JSONResponse:
        principal = await caller(request, ApiKeyScope.WRITE)
        if isinstance(principal, JSONResponse):
            return principal
        try:
            sources, force = trigger_request(await request.body())
        except BudgraphError as error:
            return _error(error, 400)
        job, created = await enqueue(
            manual_key(sources, force), principal.key_name, sources, force, once=False
        )
        return JSONResponse(_job(job, created), status_code=202)

    async def health(_: Request) -> JSONResponse:
        async with UnitOfWork(sessions, actor="anonymous") as uow:
            session = uow.session
            states = {row.key: row for row in (await session.scalars(select(db.LeaderboardSource))).all()}
            weekly: db.Job | None = await session.scalar(
                select(db.Job)
                .where(db.Job.dedupe_key.like("leaderboards:%-W%"))
                .order_by(db.Job.id.desc())
                .limit(1)
            )
        rows = []
        for key in sorted(SOURCES):
            state = states.get(key)
            last = state.last_success_started_at if state else None
            rows.append(
                {
                    "source": key,
                    "enabled": state.enabled if state else True,
                    "last_started_at": state.last_started_at.isoformat()
                    if state and state.last_started_at
                    else None,
                    "last_success_started_at": last.isoformat() if last else None,
                    "last_finished_at": (
                        state.last_finished_at.isoformat() if state and state.last_finished_at else None
                    ),
                    "last_status": state.last_status if state else None,
                    "last_error": state.last_error if state else None,
                    "next_due_at": (last + REFRESH_INTERVAL).isoformat() if last else None,
                }
            )
        failing = [row["source"] for row in rows if row["last_status"] == "failed"]
        return JSONResponse(
            {
                "status": "degraded" if failing else "ok",
                "failing_sources": failing,
                "last_weekly_job": _job(weekly, False) if weekly else None,
                "sources": rows,
            }
        )

    handler = Callable[[Request], Awaitable[Response]]
    routes: list[tuple[str, handler, list[str]]] = [
        (CRON_ROUTE, probe, ["OPTIONS"]),
        (CRON_ROUTE, cron, ["POST"]),
        (f"{CRON_ROUTE}/health", health, ["GET"]),
        (f"{CRON_ROUTE}/trigger", trigger, ["POST"]),
    ]
    return [Route(path, endpoint, methods=methods) for path, endpoint, methods in routes]
