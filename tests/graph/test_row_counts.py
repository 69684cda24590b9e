"""The stored row count of models is exact: `totalCount` of the unfiltered list reads it, not every row.

Given models written in committed units of work, in raw statements, in a transaction rolled back and
in two transactions open at once, and deleted, when the unfiltered list's `totalCount` is asked
(compiled, and through the executor) it equals `count(*)` at every step; the deltas are folded
into one row by each recorded write; a TRUNCATE resets the count; and the count reads no row of
the model table.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph.app import create_app
from budgraph.kit.db import RequestSession
from budgraph.kit.row_counts import count_statement
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings
from tests import factories
from tests.graph.test_direct_answers import Answers
from tests.live import plain_dsn, serve

TOTAL = "{ models(first: 1) { totalCount } }"
FILTERED = '{ models(first: 1, filter: {search: "kept"}) { totalCount } }'


@pytest.fixture
async def answers(live_settings: Settings) -> AsyncIterator[Answers]:
    with (
        serve(create_app(live_settings.model_copy(update={"direct_answers": True}))) as direct,
        serve(create_app(live_settings.model_copy(update={"direct_answers": False}))) as ordinary,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Answers(direct, ordinary, http)


async def _register(url: str, *uris: str) -> None:
    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            for uri in uris:
                await factories.model(uow.session, uri)
    finally:
        await engine.dispose()


async def _expect(answers: Answers, connection: asyncpg.Connection) -> int:
    """Both answers of the unfiltered and a filtered count equal count(*) of the rows."""
    rows = await connection.fetchval("SELECT count(*) FROM model")
    kept = await connection.fetchval("SELECT count(*) FROM model WHERE uri ILIKE '%kept%'")
    executor = answers.direct.app.state.executor
    before = executor.answered_directly
    fast, slow = await answers.both(TOTAL)
    assert executor.answered_directly == before + 1  # compiled
    for answer in (fast, slow):
        assert answer.json()["data"]["models"]["totalCount"] == rows, answer.text
    for answer in await answers.both(FILTERED):
        assert answer.json()["data"]["models"]["totalCount"] == kept, answer.text
    count: int = rows
    return count


async def test_the_stored_count_stays_exact(answers: Answers, live_url: str) -> None:
    connection = await asyncpg.connect(plain_dsn(live_url))
    try:
        assert await _expect(answers, connection) == 0
        await _register(live_url, "org/kept-1", "org/kept-2", "org/other-1")
        assert await _expect(answers, connection) == 3
        # the recorded write folded the deltas into one row
        assert (
            await connection.fetchval("SELECT count(*) FROM row_count_delta WHERE table_name = 'model'") == 1
        )

        # raw statements, one of many rows, are counted by their triggers too
        await connection.execute(
            "INSERT INTO model (uri, source_kind, modality, status, revision)"
            " SELECT 'org/raw-' || n, 'huggingface', 'text', 'registered', 'main' FROM generate_series(1, 5) n"
        )
        assert await _expect(answers, connection) == 8

        # a rolled-back insert leaves no trace; two open transactions count once each when they commit
        rolled_back = connection.transaction()
        await rolled_back.start()
        await connection.execute(
            "INSERT INTO model (uri, source_kind, modality, status, revision)"
            " VALUES ('org/rolled-back', 'huggingface', 'text', 'registered', 'main')"
        )
        await rolled_back.rollback()
        assert await _expect(answers, connection) == 8
        other = await asyncpg.connect(plain_dsn(live_url))
        try:
            first, second = connection.transaction(), other.transaction()
            await first.start()
            await second.start()
            await connection.execute(
                "INSERT INTO model (uri, source_kind, modality, status, revision)"
                " VALUES ('org/kept-open-1', 'huggingface', 'text', 'registered', 'main')"
            )
            await other.execute(
                "INSERT INTO model (uri, source_kind, modality, status, revision)"
                " VALUES ('org/kept-open-2', 'huggingface', 'text', 'registered', 'main')"
            )
            # not committed yet: the others still see 8
            outside = await asyncpg.connect(plain_dsn(live_url))
            try:
                assert await _expect(answers, outside) == 8
            finally:
                await outside.close()
            await second.commit()
            await first.rollback()
        finally:
            await other.close()
        assert await _expect(answers, connection) == 9

        await connection.execute("DELETE FROM model WHERE uri LIKE 'org/raw-%'")
        assert await _expect(answers, connection) == 4
        await _register(live_url, "org/kept-3")
        assert await _expect(answers, connection) == 5
        assert (
            await connection.fetchval("SELECT count(*) FROM row_count_delta WHERE table_name = 'model'") == 1
        )

        await connection.execute("TRUNCATE model CASCADE")
        assert await _expect(answers, connection) == 0
    finally:
        await connection.close()


async def test_the_count_reads_no_model_row(live_url: str) -> None:
    sql = str(
        count_statement("model").compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )  # type: ignore[no-untyped-call]
    connection = await asyncpg.connect(plain_dsn(live_url))
    try:
        plan = "\n".join(row[0] for row in await connection.fetch("EXPLAIN " + sql))
    finally:
        await connection.close()
    assert "row_count_delta" in plan
    assert " model" not in plan.replace("row_count_delta", "")
