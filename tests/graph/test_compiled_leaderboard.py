"""A compiled leaderboard is the executor's leaderboard: the same JSON, key for key, on the same data.

Given boards in both directions with tied scores, entries with no published rank, entries linked to
no model, an entry whose match method the schema does not know, `extra` JSON of every shape, a
benchmark of no source (its entries across several sources' current snapshots), an empty board and
an old snapshot, committed, when the first page of `leaderboard` (every field of the entry the
compiled answer can write, its model and benchmark, aliases, fragments, `__typename`, cursors, page
sizes, random selections) is answered by an app that compiles it and by one that runs graphql-core's
executor, then the two answers are identical and the documents that can be compiled were. What
cannot be compiled (a filter, a later page, an unknown benchmark, `percentile`) is executed.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.app import create_app
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.leaderboards.repository import restand
from budgraph.settings import Settings
from tests import factories
from tests.graph.test_compiled_answers import _compare, leaves, planned
from tests.graph.test_direct_answers import Answers, _difference, _same
from tests.live import serve

ARENA, SPEED, MIXED, EMPTY = "arena:text", "speed:ttft", "mixed", "arena:empty"
BENCHMARKS = [ARENA, SPEED, MIXED, EMPTY]
OLD = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
CURRENT = datetime(2026, 11, 29, 8, 30, 15, 250000, tzinfo=UTC)
LATER = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

ENTRY = " ".join(name for name in leaves("LeaderboardEntry") if name != "percentile")
BENCHMARK = " ".join(leaves("Benchmark"))
MODEL = " ".join(leaves("Model"))
LICENSE = " ".join(leaves("License"))
NODES = [
    f"{ENTRY} model {{ {MODEL} license {{ {LICENSE} }} }} benchmark {{ {BENCHMARK} }}",
    "score rank position rawModelName model { uri license { key } }",  # the benchmark's document
    "__typename a: score b: score model { __typename id } benchmark { __typename id key }",
    "...E model { ...M }",
    "extra fetchedAt publishedOn matchMethod sourceKey",
    "score model { uri scores { score position rawModelName benchmark { key } } }",  # entries in entries
]
FRAGMENTS = " fragment E on LeaderboardEntry { rank rawModelName } fragment M on Model { uri status }"
CONNECTIONS = [
    "totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} nodes {{ {node} }}",
    "nodes {{ {node} }}",
    "__typename edges {{ __typename cursor node {{ {node} }} }} pageInfo {{ __typename endCursor }}",
    "t: totalCount nodes {{ {node} }} p: pageInfo {{ hasNextPage }}",
]
BOARD = "query ($b: String!, $f: Int) {{ leaderboard(benchmark: $b, first: $f) {{ {connection} }} }}"


def _document(connection: str, node: str) -> str:
    document = BOARD.format(connection=connection.format(node=node))
    return document + (FRAGMENTS if "...E" in document else "")


async def _snapshot(
    session: RequestSession,
    source: db.LeaderboardSource,
    fetched_at: datetime,
    entries: list[tuple[db.Benchmark, str, str, db.Model | None, str | None, int | None, Any]],
) -> None:
    """A snapshot with entries (benchmark, raw name, score, model, match method, rank, extra)."""
    snapshot = db.LeaderboardSnapshot(
        source_id=source.id, fetched_at=fetched_at, published_on=fetched_at.date(), entry_count=len(entries)
    )
    session.add(snapshot)
    await session.flush()
    session.add_all(
        db.LeaderboardEntry(
            benchmark_id=benchmark.id,
            snapshot_id=snapshot.id,
            model_id=model.id if model else None,
            match_method=method,
            raw_model_name=name,
            score=Decimal(score),
            rank=rank,
            source=source.key,
            published_on=date(2026, 11, 28) if rank is not None else None,
            extra=extra,
        )
        for benchmark, name, score, model, method, rank, extra in entries
    )
    await restand(session, [snapshot.id])


def _benchmark(key: str, source_key: str | None, higher_is_better: bool) -> db.Benchmark:
    return db.Benchmark(
        key=key,
        source_key=source_key,
        name=f"The {key} board",
        category="coding" if higher_is_better else None,
        unit="Elo" if higher_is_better else "s",
        scale="elo" if higher_is_better else "unbounded",
        higher_is_better=higher_is_better,
    )


async def _world(url: str) -> None:
    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            session = uow.session
            mit = db.License(key="mit-board", name="MIT", kind="permissive", commercial_use=True, aliases=[])
            session.add(mit)
            await session.flush()
            alpha = await factories.model(session, "org/alpha-7b", license_id=mit.id, parameter_count=7)
            beta = await factories.model(session, "org/beta-13b", context_length=4096, status="ready")
            gamma = await factories.model(session, "https://example.com/gamma.gguf", source_kind="url")
            arena_source = db.LeaderboardSource(key="arena", name="Arena", validators={})
            speed_source = db.LeaderboardSource(key="speed", name="Speed", validators={})
            session.add_all([arena_source, speed_source])
            arena = _benchmark(ARENA, "arena", True)
            speed = _benchmark(SPEED, "speed", False)
            mixed = _benchmark(MIXED, None, True)
            empty = _benchmark(EMPTY, "arena", True)
            session.add_all([arena, speed, mixed, empty])
            await session.flush()
            nested = {"ci": [-3.5, 4.25], "votes": 12000, "note": 'a "quoted" ünïcode', "z": None}
            await _snapshot(
                session,
                arena_source,
                OLD,
                [(arena, "alpha-7b", "1400", alpha, "exact", 1, {}), (mixed, "old", "9", None, None, 1, {})],
            )
            await _snapshot(
                session,
                arena_source,
                CURRENT,
                [
                    (arena, "org/beta-13b", "1350.500000", beta, "exact", 1, nested),
                    (arena, "alpha-7b", "1310", alpha, "normalised", 2, {"votes": 1.50}),
                    (arena, "mystery-model", "1310", None, None, None, {}),  # tied, unranked
                    (arena, "Alpha-7B", "1310", alpha, "alias", 3, {"nested": {"b": [1, {"c": True}]}}),
                    (arena, "gamma", "1200", gamma, "fuzzy", 4, []),  # a method the schema does not know
                    (arena, "zeta", "0.000001", None, None, 5, "a string"),
                    (mixed, "alpha-7b", "70.25", alpha, "normalised", None, {}),
                ],
            )
            await _snapshot(
                session,
                speed_source,
                CURRENT,
                [
                    (speed, "Beta 13B", "0.900000", beta, "normalised", 3, {"p50": 0.9}),
                    (speed, "Alpha 7B", "0.4", alpha, "normalised", 1, {"p50": 0.4}),
                    (speed, "alpha 7b", "0.4", alpha, "normalised", 2, {}),  # tied with the one above
                    (speed, "mystery-model", "12345678901234.5", None, None, None, {}),
                    (mixed, "Beta 13B", "70.25", beta, "exact", None, {}),  # ties across sources
                    (mixed, "Gamma", "-1", gamma, "exact", None, {}),
                ],
            )
    finally:
        await engine.dispose()


@pytest.fixture
async def answers(live_settings: Settings, live_url: str) -> AsyncIterator[Answers]:
    await _world(live_url)
    with (
        serve(create_app(live_settings.model_copy(update={"direct_answers": True}))) as direct,
        serve(create_app(live_settings.model_copy(update={"direct_answers": False}))) as ordinary,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Answers(direct, ordinary, http)


async def test_leaderboards_get_the_same_answer_compiled(answers: Answers) -> None:
    executor = answers.direct.app.state.executor
    for node, connection, benchmark, first in itertools.product(
        NODES, CONNECTIONS, BENCHMARKS, (None, 0, 1, 3, 100)
    ):
        document = _document(connection, node)
        variables = {"b": benchmark, "f": first}
        assert planned(document, variables), document
        before = executor.answered_directly
        answer = await _compare(answers, document, variables)
        assert not answer.get("errors"), answer
        assert executor.answered_directly == before + 1, document
    assert answers.ordinary.app.state.executor.answered_directly == 0


async def test_a_compiled_board_lists_the_current_snapshot_best_first(answers: Answers) -> None:
    document = _document(CONNECTIONS[0], "rawModelName score position rank model { uri }")
    answer = await _compare(answers, document, {"b": ARENA})
    board = answer["data"]["leaderboard"]
    assert board["totalCount"] == 6
    assert [(n["rawModelName"], n["score"], n["position"], n["rank"]) for n in board["nodes"]] == [
        ("org/beta-13b", "1350.5", 1, 1),
        ("Alpha-7B", "1310", 2, 3),  # ties by raw name (byte order), then id
        ("alpha-7b", "1310", 2, 2),
        ("mystery-model", "1310", 2, None),
        ("gamma", "1200", 5, 4),
        ("zeta", "0.000001", 6, 5),
    ]
    answer = await _compare(answers, document, {"b": SPEED})
    assert [n["score"] for n in answer["data"]["leaderboard"]["nodes"]] == [
        "0.4",
        "0.4",
        "0.9",
        "12345678901234.5",
    ]
    answer = await _compare(answers, document, {"b": MIXED})  # both sources' current snapshots
    assert [n["rawModelName"] for n in answer["data"]["leaderboard"]["nodes"]] == [
        "Beta 13B",
        "alpha-7b",
        "Gamma",
    ]


async def test_the_pages_after_a_compiled_page_are_the_executors(answers: Answers) -> None:
    document = (
        "query ($b: String!, $a: String) { leaderboard(benchmark: $b, first: 2, after: $a)"
        " { pageInfo { endCursor hasNextPage } nodes { rawModelName } } }"
    )
    assert planned(document, {"b": ARENA, "a": None})
    seen: list[str] = []
    cursor = None
    while True:
        variables = {"b": ARENA, "a": cursor}
        assert planned(document, variables) == (cursor is None)
        answer = await _compare(answers, document, variables)
        page = answer["data"]["leaderboard"]
        seen += [node["rawModelName"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == ["org/beta-13b", "Alpha-7B", "alpha-7b", "mystery-model", "gamma", "zeta"]


def _selection() -> st.SearchStrategy[str]:
    entry = st.lists(st.sampled_from([*ENTRY.split(), "__typename"]), min_size=1, max_size=8, unique=True)
    model = st.lists(st.sampled_from([*leaves("Model"), "__typename"]), min_size=1, max_size=5)
    benchmark = st.lists(st.sampled_from([*leaves("Benchmark"), "__typename"]), min_size=1, max_size=4)
    alias = st.sampled_from(["", "x: "])

    def render(fields: list[str], models: list[str] | None, benchmarks: list[str] | None, a: str) -> str:
        parts = [f"{a if i == 0 else ''}{f}" for i, f in enumerate(fields)]
        if models is not None:
            parts.append("model { " + " ".join(models) + " }")
        if benchmarks is not None:
            parts.append("benchmark { " + " ".join(benchmarks) + " }")
        return " ".join(parts)

    return st.builds(render, entry, st.one_of(st.none(), model), st.one_of(st.none(), benchmark), alias)


async def test_random_selections_get_the_same_answer_compiled(answers: Answers) -> None:
    drawn: list[str] = []

    @settings(max_examples=50, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_selection(), st.sampled_from(BENCHMARKS))
    def collect(selection: str, benchmark: str) -> None:
        drawn.append(f"{benchmark}\n{selection}")

    collect()
    for case in drawn:
        benchmark, selection = case.split("\n")
        document = _document("nodes {{ {node} }}", selection)
        variables = {"b": benchmark, "f": 4}
        fast, slow = await answers.both(document, variables)
        assert _same(fast, slow), (document, _difference(fast, slow))
        if not slow.json().get("errors"):
            assert planned(document, variables), document


async def test_what_cannot_be_compiled_is_executed(answers: Answers) -> None:
    executor = answers.direct.app.state.executor
    for document, variables in (
        (
            f'{{ leaderboard(benchmark: "{ARENA}", filter: {{matchedOnly: true}}) {{ nodes {{ score }} }} }}',
            {},
        ),
        (f'{{ leaderboard(benchmark: "{ARENA}", filter: {{}}) {{ nodes {{ score }} }} }}', {}),
        (f'{{ leaderboard(benchmark: "{ARENA}", last: 2) {{ nodes {{ score }} }} }}', {}),
        (f'{{ leaderboard(benchmark: "{ARENA}", first: 101) {{ nodes {{ score }} }} }}', {}),
        (f'{{ leaderboard(benchmark: "{ARENA}") {{ nodes {{ score percentile }} }} }}', {}),
        (
            f'{{ leaderboard(benchmark: "{ARENA}") {{ nodes {{ model {{ scores(benchmarks: ["{ARENA}"]) {{ score }} }} }} }} }}',
            {},
        ),
        (f'{{ leaderboard(benchmark: "{ARENA}") {{ nodes {{ benchmark {{ entryCount }} }} }} }}', {}),
        (f'{{ leaderboard(benchmark: "{ARENA}") {{ nodes {{ benchmark {{ source {{ key }} }} }} }} }}', {}),
    ):
        assert not planned(document, variables), document
        await _compare(answers, document, variables)
    # an unknown benchmark is planned (its key is a value of the statement), and answered by the
    # executor, which words the typed error
    unknown = BOARD.format(connection="totalCount nodes { score }")
    assert planned(unknown, {"b": "no:such"})
    before = executor.answered_directly
    fast, slow = await answers.both(unknown, {"b": "no:such"})
    assert _same(fast, slow), _difference(fast, slow)
    assert [error["extensions"]["code"] for error in slow.json()["errors"]] == ["NOT_FOUND"]
    assert executor.answered_directly == before


async def test_a_new_snapshot_is_in_the_very_next_compiled_answer(answers: Answers, live_url: str) -> None:
    document = _document(CONNECTIONS[0], "rawModelName score position fetchedAt")
    before = await _compare(answers, document, {"b": ARENA})
    assert before["data"]["leaderboard"]["totalCount"] == 6
    engine = create_async_engine(live_url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            session = uow.session
            source = await session.scalar(
                select(db.LeaderboardSource).where(db.LeaderboardSource.key == "arena")
            )
            arena = await session.scalar(select(db.Benchmark).where(db.Benchmark.key == ARENA))
            assert source is not None
            assert arena is not None
            await _snapshot(session, source, LATER, [(arena, "newcomer", "1500", None, None, 1, {})])
    finally:
        await engine.dispose()
    executor = answers.direct.app.state.executor
    answered = executor.answered_directly
    after = await _compare(answers, document, {"b": ARENA})
    assert executor.answered_directly == answered + 1
    assert after["data"]["leaderboard"] == {
        "totalCount": 1,
        "pageInfo": after["data"]["leaderboard"]["pageInfo"],
        "nodes": [
            {
                "rawModelName": "newcomer",
                "score": "1500",
                "position": 1,
                "fetchedAt": "2026-12-01T09:00:00+00:00",
            }
        ],
    }
