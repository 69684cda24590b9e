"""Time and EXPLAIN the two standings reads as the API runs them: a leaderboard's top 100 with its
totalCount, and a model's scores (the bench probe, model 1, on every benchmark of every snapshot).

    .venv/bin/python -m bench.standings budgraph_bench_10x [runs]

It prints each read's p50 and minimum over ``runs`` (in this process: SQL, asyncpg and the ORM
rows, no HTTP or GraphQL), then EXPLAIN (ANALYZE, BUFFERS) of each statement it sent: at 1x and
10x, the same reads should cost the same (migration 0009 stores the standings they read).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.kit.pagination import PageRequest, fetch_page, stored_count
from budgraph.leaderboards import repository

PROBE_MODEL = 1


async def measure(name: str, runs: int, host: str = "127.0.0.1") -> None:
    engine = create_async_engine(f"postgresql+asyncpg://postgres@{host}:5432/{name}")
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    async with async_sessionmaker(engine)() as session:
        benchmarks = {row.key: row for row in (await session.scalars(select(db.Benchmark))).all()}

        async def top(key: str) -> object:
            benchmark = benchmarks[key]
            stmt = repository.leaderboard_statement(benchmark, repository.EntryQuery())
            page = await fetch_page(session, stmt, PageRequest.parse(100, None, None, None), whole_rows=True)
            total = await stored_count(session, repository.board_size_statement(benchmark))()
            return [repository.to_ranked(row) for row in page.rows], total

        async def scores() -> object:
            return await repository.best_scores(session, [PROBE_MODEL], None)

        reads: dict[str, Callable[[], Awaitable[object]]] = {
            "top 100 + totalCount, bench-arena:overall (higher is better)": lambda: top(
                "bench-arena:overall"
            ),
            "top 100 + totalCount, bench-arena:latency (lower is better)": lambda: top("bench-arena:latency"),
            f"scores of model {PROBE_MODEL} (the probe)": scores,
        }
        for label, read in reads.items():
            await read()
            sent.clear()
            await read()
            statements = list(sent)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                await read()
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"== {name}: {label}: p50 {statistics.median(times):.2f} ms, min {min(times):.2f} ms"
                f" over {runs} runs, {len(statements)} statement(s)"
            )
            connection = await session.connection()
            for statement, parameters in statements:
                plan = await connection.exec_driver_sql(
                    f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {statement}", parameters
                )
                print("\n".join(f"   {line}" for (line,) in plan.all()))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(measure(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 30))
