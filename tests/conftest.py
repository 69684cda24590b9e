"""Test fixtures: real PostgreSQL (configured or embedded), migrated once; each test rolled back."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine

from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.kit.migrate import upgrade
from budgraph.settings import Settings, get_settings
from budgraph.storage import LocalObjectStore
from tests.live import LiveServer, serve

pytest_plugins = ["tests.not_run"]


def pytest_configure(config: pytest.Config) -> None:
    # Tests write rows directly (factories) as well as through the API: answers cached by registry
    # version would be stale for them. The cache's own tests turn it on (test_response_cache.py).
    os.environ.setdefault("BUDGRAPH_RESPONSE_CACHE", "false")
    # No test may ask huggingface.co: the lookups' tests turn them on against a local Hub
    # (tests/graph/test_hub_lookups.py).
    os.environ.setdefault("BUDGRAPH_HUB_LOOKUPS", "false")
    get_settings.cache_clear()


TEST_DATABASE = "budgraph_test"


@dataclass(frozen=True)
class Servers:
    admin_database_url: str
    redis_url: str


@contextmanager
def embedded_folder() -> Iterator[Path]:
    """A folder for embedded servers, outside pytest's temporary folders.

    Run as root, the embedded PostgreSQL runs as another user and dies (a PANIC on pg_control) when a
    parent of its data dir stops being traversable; every pytest session that starts narrows
    /tmp/pytest-of-<user> to 0700 (see kit/embedded.py), so a parallel run would kill ours.
    """
    path = Path(tempfile.mkdtemp(prefix="budgraph-test-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def embedded_dir() -> Iterator[Path]:
    with embedded_folder() as path:
        yield path


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """The configured servers (BUDGRAPH_TEST_DATABASE_URL / _REDIS_URL), else embedded ones."""
    database_url = os.environ.get("BUDGRAPH_TEST_DATABASE_URL")
    redis_url = os.environ.get("BUDGRAPH_TEST_REDIS_URL")
    if database_url and redis_url:
        yield Servers(database_url, redis_url)
        return
    from budgraph.kit.embedded import EmbeddedServices

    with embedded_folder() as folder, EmbeddedServices(folder) as embedded:
        yield Servers(database_url or embedded.urls.database_url, redis_url or embedded.urls.redis_url)


async def _recreate_database(admin_url: str, name: str) -> str:
    url = make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_database(admin_url: str, name: str) -> None:
    dsn = make_url(admin_url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
async def database_url(servers: Servers) -> AsyncIterator[str]:
    """A fresh database for this test run (named by process, so parallel runs never collide)."""
    name = f"{TEST_DATABASE}_{os.getpid()}"
    url = await _recreate_database(servers.admin_database_url, name)
    await asyncio.to_thread(upgrade, url)
    yield url
    await _drop_database(servers.admin_database_url, name)


@pytest.fixture(scope="session")
async def live_database_url(servers: Servers) -> AsyncIterator[str]:
    """A second database, for apps served for real (their commits are not rolled back)."""
    name = f"{TEST_DATABASE}_live_{os.getpid()}"
    url = await _recreate_database(servers.admin_database_url, name)
    await asyncio.to_thread(upgrade, url)
    yield url
    await _drop_database(servers.admin_database_url, name)


@pytest.fixture
async def live_url(live_database_url: str) -> str:
    """The live database, emptied for this test."""
    from tests.live import empty_database

    await empty_database(live_database_url)
    return live_database_url


@pytest.fixture
def live_settings(live_url: str, servers: Servers, tmp_path: Path) -> Settings:
    """Settings of an app served for real, with a queue of this test's own."""
    return Settings(
        database_url=live_url,
        redis_url=servers.redis_url,
        objects_dir=tmp_path / "objects",
        queue_name=f"budgraph:test:{uuid.uuid4().hex}",
        # Tests send many requests from one address; the rate-limit tests set their own budgets.
        rate_limit_anonymous_budget=10**9,
        rate_limit_key_budget=10**9,
        rate_limit_redis_prefix=f"budgraph:test:{uuid.uuid4().hex}:ratelimit",
    )


@pytest.fixture
def live(live_settings: Settings) -> Iterator[LiveServer]:
    """The app served by uvicorn on a free port, on the live database."""
    with serve(create_app(live_settings)) as server:
        yield server


async def live_key(url: str, name: str, scope: ApiKeyScope) -> str:
    """An API key committed in the database at ``url``."""
    from budgraph.auth.service import create_key
    from budgraph.kit.unit_of_work import UnitOfWork

    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            key = await create_key(uow.session, name, scope)
    finally:
        await engine.dispose()
    return key


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        yield connection
        await transaction.rollback()


@pytest.fixture
def sessions(connection: AsyncConnection) -> async_sessionmaker[RequestSession]:
    return async_sessionmaker(
        bind=connection,
        class_=RequestSession,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def session(sessions: async_sessionmaker[RequestSession]) -> AsyncIterator[RequestSession]:
    async with sessions() as session:
        yield session


@pytest.fixture
def settings() -> Settings:
    return get_settings()


@pytest.fixture
def statements(engine: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter(engine)
    yield counter
    counter.close()


class GraphQLClient:
    """Posts GraphQL to the app in-process, as a client would over HTTP."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.token: str | None = None

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        bearer = token or self.token
        if bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        # json.dumps escapes what UTF-8 cannot carry (a lone surrogate), as a JSON client would.
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        return await self.http.post("/graphql", content=body, headers=headers)

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        response = await self.post(query, variables, token)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self.execute(query, variables, token)
        assert body.get("errors") is None, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error_codes(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> list[str]:
        """The codes of the errors of a request that failed (whatever its HTTP status)."""
        response = await self.post(query, variables, token)
        body = response.json()
        assert body.get("errors"), body
        return [error["extensions"]["code"] for error in body["errors"]]


@pytest.fixture
async def queue(servers: Servers) -> AsyncIterator[ArqJobQueue]:
    """The real arq queue on the test Redis, under a name of its own."""
    run = uuid.uuid4().hex
    job_queue = ArqJobQueue(
        servers.redis_url, queue_name=f"budgraph:test:{run}", job_id_prefix=f"test-{run}:"
    )
    yield job_queue
    pool = await job_queue.pool()
    await pool.delete(job_queue.queue_name)
    await job_queue.close()


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    """The object store of model files, in a folder of the test's own."""
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
async def client(
    sessions: async_sessionmaker[RequestSession],
    settings: Settings,
    queue: ArqJobQueue,
    store: LocalObjectStore,
) -> AsyncIterator[GraphQLClient]:
    app = create_app(settings, sessions=sessions, queue=queue, store=store)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield GraphQLClient(http)


@pytest.fixture
async def client_with(
    sessions: async_sessionmaker[RequestSession],
    settings: Settings,
    queue: ArqJobQueue,
    store: LocalObjectStore,
) -> AsyncIterator[Any]:
    """``await client_with(max_query_cost=...)``: an in-process client of an app with other settings."""
    clients: list[httpx.AsyncClient] = []

    async def make(**overrides: Any) -> GraphQLClient:
        app = create_app(settings.model_copy(update=overrides), sessions=sessions, queue=queue, store=store)
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        clients.append(http)
        return GraphQLClient(http)

    yield make
    for http in clients:
        await http.aclose()


@pytest.fixture
async def writer_token(session: RequestSession) -> str:
    from budgraph.auth.service import create_key
    from budgraph.db.enums import ApiKeyScope

    token = await create_key(session, "test-writer", ApiKeyScope.WRITE)
    await session.commit()
    return token
