"""The ASGI application: GraphQL (with the playground) and health endpoints."""

from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

from budgraph import __version__
from budgraph.events.publisher import ChangePublisher
from budgraph.events.sidecar import DaprSidecar
from budgraph.graphql.context import Context
from budgraph.graphql.direct_fields import COMPILED_ROOTS, DIRECT_FIELDS, TABLE_SHAPES
from budgraph.graphql.endpoint import GraphQLEndpoint
from budgraph.graphql.execution import Executor
from budgraph.graphql.http_app import GraphQLFirstApp
from budgraph.graphql.persisted import PersistedQueries
from budgraph.graphql.principals import Authenticator
from budgraph.graphql.response_cache import ResponseCache
from budgraph.graphql.schema import schema
from budgraph.graphql.websocket import GraphQLOverWebSocket
from budgraph.health.routes import health_routes
from budgraph.jobs.queue import ArqJobQueue, JobQueue
from budgraph.kit.availability import DatabaseAvailability
from budgraph.kit.db import RequestSession, create_engine, session_factory
from budgraph.kit.direct_reads import DirectReads
from budgraph.kit.unit_of_work import UnitOfWork, unwatch_commits, watch_commits
from budgraph.leaderboards.http import leaderboard_routes
from budgraph.models.hub_lookup import HubLookups
from budgraph.playground import ASSETS_MOUNT, STATIC_PACKAGE
from budgraph.ratelimit.auth_failures import AuthFailureThrottle
from budgraph.ratelimit.authenticator import ThrottledAuthenticator
from budgraph.ratelimit.hook import charge_hook
from budgraph.ratelimit.limiter import RateLimiter
from budgraph.registry.position import PositionReader
from budgraph.registry.watch import RegistryWatch
from budgraph.settings import Settings, get_settings
from budgraph.storage import ObjectStore, object_store_from_settings

log = logging.getLogger("budgraph.app")


def object_store(settings: Settings) -> ObjectStore:
    return object_store_from_settings(
        minio_endpoint=settings.minio_endpoint,
        minio_access_key=settings.minio_access_key,
        minio_secret_key=settings.minio_secret_key,
        minio_bucket=settings.minio_bucket,
        minio_secure=settings.minio_secure,
        local_root=settings.object_root(),
    )


def create_app(
    settings: Settings | None = None,
    sessions: async_sessionmaker[RequestSession] | None = None,
    queue: JobQueue | None = None,
    store: ObjectStore | None = None,
) -> Starlette:
    """The app; tests pass ``sessions`` bound to a connection whose transaction they roll back."""
    settings = settings or get_settings()
    engine = (
        create_engine(settings, statement_timeout_ms=settings.db_statement_timeout_ms)
        if sessions is None
        else None
    )
    sessions = sessions or session_factory(engine)  # type: ignore[arg-type]
    if queue is None:
        if not settings.redis_url:
            raise RuntimeError("BUDGRAPH_REDIS_URL is not set and no embedded Redis was started")
        queue = ArqJobQueue(settings.redis_url, settings.queue_name)
    store = store or object_store(settings)
    availability = DatabaseAvailability()
    # Rate limits and the failed-authentication throttle live in Redis, shared by every API process.
    limiter = RateLimiter(settings.redis_url, settings) if settings.redis_url else None
    throttle = AuthFailureThrottle(settings.redis_url, settings) if settings.redis_url else None
    # Answers, persisted documents and Hub lookups are shared by the replicas through Redis.
    shared = (
        Redis.from_url(settings.redis_url, socket_timeout=1.0, socket_connect_timeout=1.0)
        if settings.redis_url
        else None
    )
    lookups = HubLookups(settings, shared) if settings.hub_lookups else None
    template = Context(settings=settings, queue=queue, sessions=sessions, store=store, hub_lookups=lookups)
    answers = (
        ResponseCache(
            settings.response_cache_bytes,
            shared if settings.response_cache_shared else None,
            settings.response_cache_ttl_seconds,
        )
        if settings.response_cache
        else None
    )
    # The registry version for each request that could be answered from the cache or with a 304
    # (read, or trusted while no commit was announced), and polled for `registryChanged`.
    positions = (
        PositionReader(
            settings.database_url,
            settings.db_connect_timeout_seconds,
            settings.registry_position_trust_seconds,
        )
        if engine is not None and settings.database_url
        else None
    )
    # The direct answers' reads (a lean pool of their own), on a real database only.
    reads = (
        DirectReads(settings, settings.database_url)
        if settings.direct_answers and engine is not None and settings.database_url
        else None
    )
    executor = Executor(
        schema,
        settings,
        charge=charge_hook(limiter) if limiter else None,
        availability=availability,
        answers=answers,
        persisted=PersistedQueries(shared),
        positions=positions,
        direct=DIRECT_FIELDS if reads is not None else None,
        reads=reads,
        compiled=COMPILED_ROOTS,
        shapes=TABLE_SHAPES,
    )
    # `registryChanged` subscriptions wait on it: one poll of the version per process.
    watch = template.registry_watch = RegistryWatch(
        partial(executor.position, template), settings.registry_poll_interval_seconds
    )
    authenticator: Authenticator = (
        ThrottledAuthenticator(sessions, throttle, availability)
        if throttle
        else Authenticator(sessions, availability)
    )
    # Every committed change published through the Dapr sidecar, when a pub/sub component is named.
    publisher = (
        ChangePublisher(
            sessions,
            DaprSidecar(
                settings.events_pubsub,
                settings.events_topic,
                publish_timeout=settings.events_publish_timeout_seconds,
                connect_timeout=settings.events_connect_timeout_seconds,
            ),
            settings,
        )
        if settings.events_pubsub
        else None
    )
    endpoint = GraphQLEndpoint(executor, authenticator, template)
    websocket = GraphQLOverWebSocket(executor, authenticator, template)

    async def health(_: Request) -> JSONResponse:
        """Liveness: the process answers and reaches its database (readiness is /readyz)."""
        if not availability.admit():
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        try:
            async with UnitOfWork(sessions, actor="health") as uow:
                await uow.session.execute(text("SELECT 1"))
        except (DBAPIError, PoolTimeout, OSError):
            availability.failed()
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        availability.succeeded()
        return JSONResponse({"status": "ok", "version": __version__})

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        """The last net: an error no route expected is a JSON 500 with a request id, never a page."""
        request_id = uuid.uuid4().hex
        log.error("unexpected error %s on %s %s: %s: %s", request_id, request.method, request.url.path,
                  type(error).__name__, str(error)[:200], exc_info=error)  # fmt: skip
        body = {
            "errors": [
                {
                    "message": f"internal server error (request id {request_id})",
                    "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id},
                }
            ]
        }
        return JSONResponse(body, status_code=500)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await store.ensure_ready()
        # What start-up built lives as long as the process: full collections need not walk it again
        # (they paused requests for ~150 ms each under load).
        gc.collect()
        gc.freeze()
        if positions is not None:  # this process's own commits end the trust in a read position at once
            watch_commits(sessions, positions.moved)
        if publisher is not None:
            watch_commits(sessions, publisher.nudge)
            publisher.start()
        yield
        if publisher is not None:
            unwatch_commits(sessions, publisher.nudge)
            await publisher.stop()
        await watch.close()
        if positions is not None:
            unwatch_commits(sessions, positions.moved)
        for closing in (limiter, throttle):
            if closing is not None:
                await closing.close()
        if lookups is not None:
            lookups.close()
        if shared is not None:
            await shared.aclose()
        if positions is not None:
            await positions.close()
        if reads is not None:
            await reads.close()
        await queue.close()
        if engine is not None:
            await engine.dispose()

    # The playground's assets (GraphiQL, React), vendored in the package: no CDN on air-gapped networks.
    assets: list[BaseRoute] = (
        [Mount(ASSETS_MOUNT, StaticFiles(packages=[STATIC_PACKAGE]), name="playground-assets")]
        if settings.playground
        else []
    )

    app = GraphQLFirstApp(
        endpoint.handle,
        unexpected,
        routes=[
            Route("/healthz", health),
            *health_routes(sessions, settings),
            Route("/graphql", endpoint.handle, methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]),
            WebSocketRoute("/graphql", websocket),
            *leaderboard_routes(sessions, queue, settings.dapr_app_api_token),
            *assets,
        ],
        lifespan=lifespan,
    )
    app.state.sessions = sessions
    app.state.engine = engine
    app.state.settings = settings
    app.state.answers = answers
    app.state.executor = executor
    app.state.publisher = publisher
    app.state.registry_watch = watch
    return app
