"""The statement-counting proxy: given a client connected through it, when the client runs a known
mix of simple and extended-protocol statements in and out of a transaction, then the proxy counts
each once, and BEGIN / COMMIT as transaction control."""

from __future__ import annotations

import asyncpg
from sqlalchemy import make_url

from bench import data
from bench.sqlcount import counting_proxy, upstream_of


async def test_the_proxy_counts_each_statement_once(bench_database: data.BenchDatabase) -> None:
    url = make_url(bench_database.dsn)
    with counting_proxy(*upstream_of(bench_database.dsn)) as proxy:
        connection = await asyncpg.connect(
            host="127.0.0.1", port=proxy.port, user=url.username, password=url.password, database=url.database
        )
        try:
            before = (proxy.counts.statements, proxy.counts.transaction_control)
            await connection.execute("SELECT 1")  # simple Query
            assert await connection.fetchval("SELECT $1::int + 1", 1) == 2  # Parse, Bind, Execute
            assert await connection.fetchval("SELECT $1::int + 1", 2) == 3  # the prepared one again
            async with connection.transaction():  # BEGIN ... COMMIT
                await connection.fetch("SELECT count(*) FROM engine")
            after = (proxy.counts.statements, proxy.counts.transaction_control)
        finally:
            await connection.close()
    assert (after[0] - before[0], after[1] - before[1]) == (6, 2)
