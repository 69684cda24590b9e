"""Database engine and sessions.

GraphQL resolves sibling fields concurrently, but an ``AsyncSession`` must not be used by two
coroutines at once; ``RequestSession`` serialises every round trip of one request's session.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Executable, Row, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from budgraph.settings import Settings

log = logging.getLogger("budgraph.db")

# A row of a read: columns by attribute, as an ORM object reads (``Type.from_row`` takes either).
AnyRow = Row[*tuple[Any, ...]]


# How long a rollback waits for the driver to finish cancelling a statement (it takes a round trip).
CANCELLATION_WAIT_SECONDS = 5.0


class RequestSession(AsyncSession):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._round_trip = asyncio.Lock()

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._round_trip:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._round_trip:
            return await super().scalar(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._round_trip:
            return await super().get(*args, **kwargs)

    async def flush(self, objects: Any = None) -> None:
        async with self._round_trip:
            await super().flush(objects)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        async with self._round_trip:
            await super().refresh(*args, **kwargs)

    async def rollback(self) -> None:
        async with self._round_trip:
            await self._settled()
            await super().rollback()

    async def _settled(self) -> None:
        """Wait until the driver has finished cancelling a statement of a cancelled task.

        graphql-core cancels the sibling fields of a field that fails; a sibling cancelled inside
        its statement leaves asyncpg cancelling it on the server, in the background. asyncpg's own
        statements wait for that (as its pool does before a reset), but the ``ROLLBACK`` SQLAlchemy
        sends would find the connection busy and the request would end in a 503.
        """
        if not self.in_transaction():
            return
        try:
            connection = await (await self.connection()).get_raw_connection()
            protocol = getattr(connection.driver_connection, "_protocol", None)
            if protocol is not None and protocol._is_cancelling():
                await protocol._wait_for_cancellation(CANCELLATION_WAIT_SECONDS)
        except Exception as error:  # a stalled or lost connection: the rollback reports it
            log.debug(
                "a cancellation did not settle before the rollback: %s: %s", type(error).__name__, error
            )

    async def plain_rows(self, statement: Executable) -> Sequence[AnyRow]:
        async with self._round_trip:
            connection = await self.connection()
            return (await connection.execute(statement)).all()


async def plain_rows(session: AsyncSession, statement: Executable) -> Sequence[AnyRow]:
    """The rows of a read, without ORM objects: executed on the session's connection (its
    transaction, so it sees what the session flushed), it builds no identity map or instance state,
    only tuples. An entity in the statement (``select(db.Model)``) comes back as its columns.
    Writes keep the ORM; reads that only turn rows into GraphQL types use this."""
    if isinstance(session, RequestSession):
        return await session.plain_rows(statement)
    connection = await session.connection()
    return (await connection.execute(statement)).all()


# A transaction left open by a bug cannot hold its connection (and its locks) for ever.
IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000


def create_engine(
    settings: Settings, url: str | None = None, *, statement_timeout_ms: int | None = None
) -> AsyncEngine:
    """The engine of a process. The API passes its ``statement_timeout``; workers and the CLI,
    whose statements may legitimately run long (a refresh, a seed), do not."""
    database_url = url or settings.database_url
    if not database_url:
        raise RuntimeError("BUDGRAPH_DATABASE_URL is not set and no embedded database was started")
    server_settings = {"idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_TIMEOUT_MS)}
    connect_args: dict[str, Any] = {"timeout": settings.db_connect_timeout_seconds}
    if statement_timeout_ms is not None:
        server_settings["statement_timeout"] = str(statement_timeout_ms)
        # A database that stops answering (a stalled server, a dead network) is noticed by the client
        # a second after the server would have cancelled the statement itself.
        connect_args["command_timeout"] = statement_timeout_ms / 1000 + 1.0
    connect_args["server_settings"] = server_settings
    engine = create_async_engine(
        database_url,
        pool_size=settings.db_pool_size,
        pool_timeout=settings.db_pool_timeout_seconds,
        # No ping per checkout (a round trip on every request): a connection the server closed is
        # noticed without one (``_closed_by_the_server``), and one that fails mid-request is a
        # disconnect error, on which SQLAlchemy drops every pooled connection older than it.
        pool_pre_ping=False,
        echo=settings.sql_echo,
        connect_args=connect_args,
    )
    event.listen(engine.sync_engine, "checkout", _closed_by_the_server)
    return engine


def _closed_by_the_server(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """Refuse a pooled connection whose socket is already closed (the server restarted, or ended
    the session): the pool then discards it and checks out, or opens, another one.

    asyncpg reads the server's goodbye (or the socket's end) while the connection sits idle in the
    pool, so this costs no round trip.
    """
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[RequestSession]:
    return async_sessionmaker(engine, class_=RequestSession, expire_on_commit=False, autoflush=False)


class StatementCounter:
    """Counts the SQL statements an engine runs (used by tests and the benchmark)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        self.statements: list[str] = []
        self._engine = engine.sync_engine
        event.listen(self._engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *args: Any) -> None:
        self.count += 1
        self.statements.append(str(args[2]))

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._on_execute)
