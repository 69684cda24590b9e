"""A leaderboard's first page and its `totalCount` cost the same on a board of any size (issue 9).

Given boards of 20 and of 2,000 entries per snapshot (each source with an old snapshot and a current
one), of a benchmark with a source key and of one without (its entries in two sources' current
snapshots), committed, when the first page of each with its `totalCount` is answered compiled and
by the executor, then both answer the same, `totalCount` is the number of entries the board lists
(the snapshots' stored size, not a count), the compiled answer is one statement, and it takes as
many rows from `leaderboard_entry` at either size: the page's worth of each snapshot it lists, the
page's rows, and one row per snapshot for the size. A later snapshot changes the size at once.
The statement's LIMITs are in its SQL, so its generic plan (a prepared statement's) is estimated as
the plan for its values, on a board of 20,000 entries too: PostgreSQL plans it once at any size.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.app import create_app
from budgraph.kit.db import RequestSession
from budgraph.kit.direct_reads import CompiledRead
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.leaderboards.repository import restand
from budgraph.settings import Settings
from tests.graph.test_compiled_answers import _compare
from tests.graph.test_direct_answers import Answers
from tests.live import plain_dsn, serve

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SIZES = (20, 2_000)
TOP = """
query ($b: String!, $f: Int) { leaderboard(benchmark: $b, first: $f) {
  totalCount pageInfo { hasNextPage } nodes { rawModelName score position model { uri } } } }
"""


def _entries(benchmark: db.Benchmark, snapshot: db.LeaderboardSnapshot, count: int, model: db.Model) -> Any:
    return [
        {
            "benchmark_id": benchmark.id,
            "snapshot_id": snapshot.id,
            "model_id": model.id if n % 7 == 0 else None,
            "raw_model_name": f"{benchmark.key}-{n:05d}",
            "score": Decimal(n % 97),  # ties, so the page's order leans on names and ids too
            "source": "grow",
        }
        for n in range(count)
    ]


async def _snapshot(
    session: RequestSession,
    source: db.LeaderboardSource,
    week: int,
    boards: list[db.Benchmark],
    count: int,
    model: db.Model,
) -> None:
    snapshot = db.LeaderboardSnapshot(source_id=source.id, fetched_at=T0 + timedelta(days=7 * week))
    session.add(snapshot)
    await session.flush()
    for board in boards:
        await session.execute(insert(db.LeaderboardEntry), _entries(board, snapshot, count, model))
    await restand(session, [snapshot.id])


async def _grow(url: str) -> None:
    """Per size: sources `a<size>` and `b<size>`, two snapshots each; `<size>:a` ranks source a's
    entries, `<size>:mixed` (no source key) entries of both."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            session = uow.session
            model = db.Model(uri="org/grower", source_kind="huggingface")
            session.add(model)
            for size in SIZES:
                a = db.LeaderboardSource(key=f"a{size}", name="a", validators={})
                b = db.LeaderboardSource(key=f"b{size}", name="b", validators={})
                ranked = db.Benchmark(key=f"{size}:a", source_key=a.key, name="a", higher_is_better=True)
                mixed = db.Benchmark(key=f"{size}:mixed", source_key=None, name="m", higher_is_better=False)
                session.add_all([a, b, ranked, mixed])
                await session.flush()
                for week in range(2):
                    await _snapshot(session, a, week, [ranked, mixed], size, model)
                    await _snapshot(session, b, week, [mixed], size, model)
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        await connection.execute("ANALYZE leaderboard_entry")
    finally:
        await connection.close()


@pytest.fixture
async def answers(live_settings: Settings, live_url: str) -> AsyncIterator[Answers]:
    await _grow(live_url)
    with (
        serve(create_app(live_settings.model_copy(update={"direct_answers": True}))) as direct,
        serve(create_app(live_settings.model_copy(update={"direct_answers": False}))) as ordinary,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Answers(direct, ordinary, http)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _sent(answers: Answers, variables: dict[str, Any]) -> list[tuple[CompiledRead, dict[str, Any]]]:
    """The statements (with their values) the compiled answer to TOP sends, checked to be the
    executor's answer and to be answered directly."""
    executor = answers.direct.app.state.executor
    reads = executor.reads
    sent: list[tuple[CompiledRead, dict[str, Any]]] = []
    fetch = reads.fetch

    async def capture(read: CompiledRead, values: dict[str, Any]) -> Any:
        sent.append((read, dict(values)))
        return await fetch(read, values)

    reads.fetch = capture
    try:
        answered = executor.answered_directly
        await _compare(answers, TOP, variables)
        assert executor.answered_directly == answered + 1
    finally:
        del reads.fetch
    return sent


async def _compiled_reads(answers: Answers, url: str, variables: dict[str, Any]) -> tuple[int, int]:
    """The statements the compiled answer sends, and the rows they take from leaderboard_entry."""
    sent = await _sent(answers, variables)
    connection = await asyncpg.connect(plain_dsn(url))
    rows = 0
    try:
        for read, values in sent:
            plan = await connection.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {read.sql}", *read.arguments(values)
            )
            rows += sum(
                int(node["Actual Rows"]) * int(node["Actual Loops"])
                for node in _nodes(json.loads(plan)[0]["Plan"])
                if node.get("Relation Name") == "leaderboard_entry"
            )
    finally:
        await connection.close()
    return len(sent), rows


async def test_a_first_page_reads_the_same_rows_at_any_size(answers: Answers, live_url: str) -> None:
    read: dict[tuple[str, int], tuple[int, int]] = {}
    for size in SIZES:
        for board, snapshots in (("a", 1), ("mixed", 2)):
            variables = {"b": f"{size}:{board}", "f": 5}
            answer = await _compare(answers, TOP, variables)
            leaderboard = answer["data"]["leaderboard"]
            assert leaderboard["totalCount"] == size * snapshots
            assert leaderboard["pageInfo"] == {"hasNextPage": True}
            read[board, size] = await _compiled_reads(answers, live_url, variables)
    # one statement, taking as many rows at either size: per snapshot listed, at most the page and
    # the row after it (in the index's order) and one row for its stored size; then the chosen rows
    bound = {"a": 6 + 1 + 6, "mixed": 2 * (6 + 1) + 2 * 6}
    for board in bound:
        small, large = read[board, SIZES[0]], read[board, SIZES[1]]
        assert small == large, (board, small, large)
        statements, rows = large
        assert statements == 1
        assert rows <= bound[board], (board, rows)


async def _later_snapshot(url: str, source_key: str, boards: dict[str, int]) -> None:
    """A snapshot of ``source_key`` a week after the current one: ``boards`` key -> entries."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            session = uow.session
            source = await session.scalar(
                select(db.LeaderboardSource).where(db.LeaderboardSource.key == source_key)
            )
            model = await session.scalar(select(db.Model))
            assert source is not None
            assert model is not None
            snapshot = db.LeaderboardSnapshot(source_id=source.id, fetched_at=T0 + timedelta(days=14))
            session.add(snapshot)
            await session.flush()
            for key, count in boards.items():
                board = await session.scalar(select(db.Benchmark).where(db.Benchmark.key == key))
                assert board is not None
                await session.execute(insert(db.LeaderboardEntry), _entries(board, snapshot, count, model))
            await restand(session, [snapshot.id])
    finally:
        await engine.dispose()


async def _totals(answers: Answers, *keys: str) -> dict[str, int]:
    return {
        key: (await _compare(answers, TOP, {"b": key, "f": 3}))["data"]["leaderboard"]["totalCount"]
        for key in keys
    }


async def test_a_later_snapshot_changes_the_size_at_once(answers: Answers, live_url: str) -> None:
    assert await _totals(answers, "20:a", "20:mixed") == {"20:a": 20, "20:mixed": 40}
    # when source b publishes 3 entries of the mixed board, then a publishes 4 of its own board only
    await _later_snapshot(live_url, "b20", {"20:mixed": 3})
    assert await _totals(answers, "20:a", "20:mixed") == {"20:a": 20, "20:mixed": 23}
    await _later_snapshot(live_url, "a20", {"20:a": 4})
    # then each answer (compiled and executed alike) lists the current snapshots' entries only
    assert await _totals(answers, "20:a", "20:mixed", "2000:a") == {"20:a": 4, "20:mixed": 3, "2000:a": 2000}


async def _costs(answers: Answers, url: str, variables: dict[str, Any]) -> dict[str, float]:
    """The estimated cost of the compiled statement, prepared as the app's pool prepares it: of a
    plan for these values (custom) and of the plan for any values (generic), which PostgreSQL
    keeps (planning once) only while it costs no more than the custom ones."""
    [(read, values)] = await _sent(answers, variables)
    given = ", ".join(
        "'" + value.replace("'", "''") + "'" if isinstance(value, str) else str(int(value))
        for value in read.arguments(values)
    )
    connection = await asyncpg.connect(plain_dsn(url))
    costs = {}
    try:
        await connection.execute(f"PREPARE page AS {read.sql}")
        for mode in ("custom", "generic"):
            await connection.execute(f"SET plan_cache_mode = force_{mode}_plan")
            plan = await connection.fetchval(f"EXPLAIN (FORMAT JSON) EXECUTE page({given})")
            costs[mode] = float(json.loads(plan)[0]["Plan"]["Total Cost"])
    finally:
        await connection.close()
    return costs


async def _board(url: str, key: str, entries: int) -> None:
    """A source ``key`` with one snapshot of ``entries`` entries of the benchmark ``key``:a."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            session = uow.session
            model = await session.scalar(select(db.Model))
            assert model is not None
            source = db.LeaderboardSource(key=key, name=key, validators={})
            board = db.Benchmark(key=f"{key}:a", source_key=key, name=key, higher_is_better=True)
            session.add_all([source, board])
            await session.flush()
            await _snapshot(session, source, 0, [board], entries, model)
    finally:
        await engine.dispose()
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        await connection.execute("ANALYZE leaderboard_entry")
    finally:
        await connection.close()


async def test_a_first_page_is_planned_once_at_any_size(answers: Answers, live_url: str) -> None:
    # given a small board and one of 20,000 entries (the 10x registry's are 12,500)
    await _board(live_url, "huge", 20_000)
    for key in (f"{SIZES[0]}:a", "huge:a"):
        costs = await _costs(answers, live_url, {"b": key, "f": 100})
        # then the page's generic plan is estimated as the plan for its values: its LIMITs are in
        # the SQL (a parameter's LIMIT is guessed at a tenth of the rows, an estimate that grows
        # with the table until PostgreSQL drops the generic plan and plans every execution)
        assert costs["generic"] == pytest.approx(costs["custom"], rel=0.001), (key, costs)
