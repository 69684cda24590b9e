"""The direct reads' connection pool (budgraph/kit/lean_pool.py), against the real PostgreSQL: it
reuses idle connections, never opens more than its size, makes a read wait at most its timeout,
keeps a connection after PostgreSQL's own error, drops one after a cancelled read (whose statement
the server stops) or one the server closed, and refuses reads once closed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from budgraph.kit.lean_pool import LeanPool, PoolClosed
from tests.live import plain_dsn

NAME = "budgraph-lean-pool-test"


@pytest.fixture
async def dsn(database_url: str) -> str:
    return plain_dsn(database_url)


@pytest.fixture
async def make_pool(dsn: str) -> AsyncIterator[Callable[[int, float], LeanPool]]:
    pools: list[LeanPool] = []

    def make(size: int, timeout: float) -> LeanPool:
        async def connect() -> asyncpg.Connection:
            return await asyncpg.connect(dsn, server_settings={"application_name": NAME})

        pool = LeanPool(connect, size, timeout)
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        await pool.close()


async def _backends(dsn: str, running: str | None = None) -> list[int]:
    """The pids of this test's connections (those running a statement that contains ``running``)."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1"
            " AND ($2::text IS NULL OR (state = 'active' AND query LIKE '%' || $2 || '%'))",
            NAME,
            running,
        )
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


async def _pid(pool: LeanPool, sleep: float = 0.0) -> int:
    rows = await pool.fetch("SELECT pg_backend_pid() AS pid, pg_sleep($1::float8)", [sleep])
    pid: int = rows[0]["pid"]
    return pid


async def test_sequential_reads_share_one_connection(make_pool: Callable[[int, float], LeanPool]) -> None:
    pool = make_pool(4, 1.0)
    pids = {await _pid(pool) for _ in range(20)}
    assert len(pids) == 1
    assert pool.opened == 1


async def test_concurrent_reads_never_open_more_than_the_size(
    make_pool: Callable[[int, float], LeanPool], dsn: str
) -> None:
    # given a pool of 2, when 6 reads of 0.2 s run at once
    pool = make_pool(2, 5.0)
    pids = await asyncio.gather(*(_pid(pool, 0.2) for _ in range(6)))

    # then all are answered over 2 connections, which stay open for the next reads
    assert len(set(pids)) == 2
    assert pool.opened == 2
    assert sorted(await _backends(dsn)) == sorted(set(pids))


async def test_a_read_waits_at_most_the_timeout_and_the_pool_recovers(
    make_pool: Callable[[int, float], LeanPool],
) -> None:
    # given a pool of 1 whose connection is busy for 1 s
    pool = make_pool(1, 0.2)
    busy = asyncio.create_task(_pid(pool, 1.0))
    await asyncio.sleep(0.1)

    # when another read comes, it gives up after the timeout
    with pytest.raises(TimeoutError):
        await _pid(pool)

    # then the busy read finishes, and the next read uses the same connection
    first = await busy
    assert await _pid(pool) == first
    assert pool.opened == 1


async def test_a_waiting_read_gets_the_connection_given_back(
    make_pool: Callable[[int, float], LeanPool],
) -> None:
    pool = make_pool(1, 5.0)
    busy = asyncio.create_task(_pid(pool, 0.3))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(_pid(pool))
    assert await waiting == await busy
    assert pool.opened == 1


async def test_postgresqls_own_error_keeps_the_connection(
    make_pool: Callable[[int, float], LeanPool],
) -> None:
    pool = make_pool(2, 1.0)
    before = await _pid(pool)
    with pytest.raises(asyncpg.DivisionByZeroError):
        await pool.fetch("SELECT 1 / $1::int", [0])
    assert await _pid(pool) == before
    assert pool.opened == 1


async def test_a_cancelled_read_drops_its_connection_and_the_server_stops_the_statement(
    make_pool: Callable[[int, float], LeanPool], dsn: str
) -> None:
    # given a read of 30 s, running
    pool = make_pool(2, 1.0)
    before = await _pid(pool)
    read = asyncio.create_task(_pid(pool, 30.0))
    await asyncio.sleep(0.3)
    assert await _backends(dsn, "pg_sleep") == [before]

    # when it is cancelled (a request's deadline, a client gone)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read

    # then its connection is not reused, the server stops the statement, and reads go on
    assert pool.opened == 0
    for _ in range(50):
        if not await _backends(dsn, "pg_sleep"):
            break
        await asyncio.sleep(0.1)
    assert await _backends(dsn, "pg_sleep") == []
    assert await _pid(pool) != before


async def test_a_connection_the_server_closed_is_replaced(
    make_pool: Callable[[int, float], LeanPool], dsn: str
) -> None:
    # given an idle connection, which the server terminates
    pool = make_pool(2, 1.0)
    before = await _pid(pool)
    admin = await asyncpg.connect(dsn)
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", before)
    finally:
        await admin.close()
    for _ in range(50):
        if before not in await _backends(dsn):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # the client sees the socket close

    # when the next read comes, it is answered on a new connection
    assert await _pid(pool) != before
    assert pool.opened == 1


async def test_a_closed_pool_refuses_reads_and_closes_its_connections(
    make_pool: Callable[[int, float], LeanPool], dsn: str
) -> None:
    # given a pool of 1, busy, with a read waiting
    pool = make_pool(1, 5.0)
    busy = asyncio.create_task(_pid(pool, 0.3))
    await asyncio.sleep(0.05)
    waiting = asyncio.create_task(_pid(pool))
    await asyncio.sleep(0.05)

    # when it is closed
    await pool.close()

    # then the waiting read is refused, the busy one finishes, and no connection stays open
    with pytest.raises(PoolClosed):
        await waiting
    await busy
    with pytest.raises(PoolClosed):
        await _pid(pool)
    assert pool.opened == 0
    for _ in range(50):
        if not await _backends(dsn):
            break
        await asyncio.sleep(0.05)
    assert await _backends(dsn) == []
