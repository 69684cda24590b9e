"""Stored standings (migration 0009) answer exactly what the read-time windows answered.

A seeded random board with ties, unmatched names (no model), several raw names per model, several
snapshots per source (only the current one counts, two of them on the same instant), benchmarks in
both directions and a lone entry: the API's positions and percentiles equal those computed here in
Python from the raw entries with the documented tie rules, and the stored columns equal, to the last
bit, what the SQL the reads ran before 0009 computes on the same rows (frozen below).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, event, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.decimals import plain
from budgraph.leaderboards.refresh import refresh
from budgraph.leaderboards.repository import restand
from budgraph.leaderboards.sources import SOURCES, StaticSourceSettings
from tests.conftest import GraphQLClient

T0 = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)
SETTINGS = StaticSourceSettings(hf_token=None, artificial_analysis_api_key="test-key")

LEADERBOARD = """
query ($benchmark: String!, $first: Int, $after: String) {
  leaderboard(benchmark: $benchmark, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { rawModelName score position percentile model { uri } }
  }
}
"""
ENTRY_COUNTS = "{ benchmarks(first: 100) { nodes { key entryCount } } }"
SCORES = """
query ($uri: String!) {
  model(uri: $uri) { scores { benchmark { key } rawModelName score position percentile } }
}
"""

# What leaderboard_statement computed on every read before 0009: a window over the benchmark's
# entries in its source's latest snapshot, in the benchmark's direction.
LEGACY_LEADERBOARD = """
SELECT e.id, rank() OVER w AS position, 100 * (1 - percent_rank() OVER w) AS percentile
  FROM leaderboard_entry e
 WHERE e.benchmark_id = :benchmark
   AND e.snapshot_id = (SELECT s.id FROM leaderboard_snapshot s
                          JOIN leaderboard_source src ON src.id = s.source_id
                         WHERE src.key = :source ORDER BY s.fetched_at DESC, s.id DESC LIMIT 1)
WINDOW w AS (ORDER BY e.score {direction})
"""
# What best_scores computed for Model.scores before 0009: each model's best current entry per
# benchmark, its position counted (one more than the better current entries), its percentile
# percent_rank's arithmetic on those counts.
LEGACY_BEST_SCORES = """
WITH current AS (
  SELECT DISTINCT ON (source_id) id FROM leaderboard_snapshot ORDER BY source_id, fetched_at DESC, id DESC
), best AS (
  SELECT DISTINCT ON (e.model_id, e.benchmark_id) e.id, e.benchmark_id, e.score, b.higher_is_better
    FROM leaderboard_entry e JOIN current c ON c.id = e.snapshot_id JOIN benchmark b ON b.id = e.benchmark_id
   WHERE e.model_id IS NOT NULL
   ORDER BY e.model_id, e.benchmark_id, CASE WHEN b.higher_is_better THEN e.score ELSE -e.score END DESC,
            e.raw_model_name, e.id
)
SELECT best.id, standing.better + 1 AS position,
       100 * (1 - CASE WHEN standing.total > 1 THEN CAST(standing.better AS FLOAT) / (standing.total - 1)
                       ELSE CAST(0.0 AS FLOAT) END) AS percentile
  FROM best, LATERAL (
    SELECT count(*) AS total,
           count(*) FILTER (WHERE CASE WHEN best.higher_is_better THEN o.score > best.score
                                       ELSE o.score < best.score END) AS better
      FROM leaderboard_entry o
     WHERE o.benchmark_id = best.benchmark_id AND o.snapshot_id IN (SELECT id FROM current)
  ) AS standing
"""
# The same window over any one snapshot, history included (a snapshot is current again when a later
# one is deleted).
LEGACY_ANY_SNAPSHOT = """
SELECT e.id, rank() OVER w AS position, 100 * (1 - percent_rank() OVER w) AS percentile
  FROM leaderboard_entry e JOIN benchmark b ON b.id = e.benchmark_id
WINDOW w AS (PARTITION BY e.benchmark_id, e.snapshot_id
             ORDER BY CASE WHEN b.higher_is_better THEN e.score ELSE -e.score END DESC)
"""


@dataclass(frozen=True)
class Raw:
    id: int
    benchmark: str
    higher: bool
    snapshot_id: int
    name: str
    score: Decimal
    model_uri: str | None


def _expected(entries: list[Raw]) -> dict[int, tuple[int, float]]:
    """Position = 1 + the entries that score strictly better (ties share the better place);
    percentile = 100 * (1 - (position - 1) / (n - 1)), 100 for a lone entry: by id."""
    standings: dict[int, tuple[int, float]] = {}
    for entry in entries:
        better = sum(
            1
            for other in entries
            if (other.score > entry.score if entry.higher else other.score < entry.score)
        )
        n = len(entries)
        standings[entry.id] = (better + 1, 100 * (1 - (better / (n - 1) if n > 1 else 0.0)))
    return standings


def _listed(entries: list[Raw]) -> list[Raw]:
    """In the list's order: best first in the direction, then by name, then by id."""
    return sorted(entries, key=lambda e: (-e.score if e.higher else e.score, e.name, e.id))


async def _random_board(session: RequestSession) -> None:
    """Two sources; three snapshots each (the last two of `alpha` fetched at the same instant, the
    higher id current); benchmarks in both directions, one with a lone entry, one all tied."""
    rng = random.Random(9)
    models = [db.Model(uri=f"org/m{i:02d}", source_kind="huggingface") for i in range(12)]
    session.add_all(models)
    boards = {
        "alpha": [("alpha:elo", True, 14), ("alpha:latency", False, 11), ("alpha:solo", True, 1)],
        "beta": [("beta:accuracy", True, 9), ("beta:cost", False, 13), ("beta:flat", True, 5)],
    }
    for key, benchmarks in boards.items():
        source = db.LeaderboardSource(key=key, name=key, validators={})
        session.add(source)
        rows = {
            name: db.Benchmark(key=name, source_key=key, name=name, higher_is_better=higher)
            for name, higher, _ in benchmarks
        }
        session.add_all(rows.values())
        await session.flush()
        instants = [T0, T0 + timedelta(days=7), T0 + timedelta(days=7 if key == "alpha" else 14)]
        for fetched_at in instants:
            snapshot = db.LeaderboardSnapshot(source_id=source.id, fetched_at=fetched_at, entry_count=0)
            session.add(snapshot)
            await session.flush()
            for name, _, count in benchmarks:
                for n in range(count):
                    model = rng.choice([None, *models])  # unmatched names, and models named twice
                    session.add(
                        db.LeaderboardEntry(
                            benchmark_id=rows[name].id,
                            snapshot_id=snapshot.id,
                            model_id=model.id if model else None,
                            raw_model_name=f"{model.uri[4:] if model else 'x'}-n{n:02d}",
                            score=Decimal(7) if name == "beta:flat" else Decimal(rng.randint(-4, 6)) / 4,
                            source=key,
                        )
                    )
            await restand(session, [snapshot.id])
    await session.commit()


async def _raw(session: RequestSession) -> list[Raw]:
    entry, benchmark = db.LeaderboardEntry, db.Benchmark
    rows = await session.execute(
        select(
            entry.id,
            benchmark.key,
            benchmark.higher_is_better,
            entry.snapshot_id,
            entry.raw_model_name,
            entry.score,
            db.Model.uri,
        )
        .join(benchmark, benchmark.id == entry.benchmark_id)
        .outerjoin(db.Model, db.Model.id == entry.model_id)
    )
    return [Raw(*row) for row in rows.all()]


async def _current(session: RequestSession) -> set[int]:
    rows = await session.scalars(
        text(
            "SELECT DISTINCT ON (source_id) id FROM leaderboard_snapshot"
            " ORDER BY source_id, fetched_at DESC, id DESC"
        )
    )
    return set(rows.all())


async def _stored(session: RequestSession) -> dict[int, tuple[int, float]]:
    entry = db.LeaderboardEntry
    rows = await session.execute(select(entry.id, entry.position, entry.percentile))
    return {id: (position, percentile) for id, position, percentile in rows.all()}


async def _legacy_windows(session: RequestSession) -> dict[int, tuple[int, float]]:
    """The pre-0009 leaderboard window of every benchmark, over its current snapshot."""
    found: dict[int, tuple[int, float]] = {}
    for key, source_key, higher in (
        await session.execute(select(db.Benchmark.id, db.Benchmark.source_key, db.Benchmark.higher_is_better))
    ).all():
        statement = text(LEGACY_LEADERBOARD.format(direction="DESC NULLS LAST" if higher else "ASC"))
        for id, position, percentile in (
            await session.execute(statement, {"benchmark": key, "source": source_key})
        ).all():
            found[id] = (position, percentile)
    return found


async def _legacy(session: RequestSession, sql: str) -> dict[int, tuple[int, float]]:
    rows = (await session.execute(text(sql))).all()
    return {id: (position, percentile) for id, position, percentile in rows}


async def test_stored_standings_equal_the_read_time_sql(session: RequestSession) -> None:
    # given a random board, stood as writers stand it
    await _random_board(session)
    current = await _current(session)
    raw = await _raw(session)

    # when the standings are read back
    stored = await _stored(session)

    # then every entry has one, and the current ones are bit for bit what the reads computed
    assert all(position is not None and percentile is not None for position, percentile in stored.values())
    windows = await _legacy_windows(session)
    assert set(windows) == {entry.id for entry in raw if entry.snapshot_id in current}
    assert windows == {id: stored[id] for id in windows}
    best = await _legacy(session, LEGACY_BEST_SCORES)
    assert len(best) > 20
    assert best == {id: stored[id] for id in best}
    # and history stands within its own snapshot as well
    assert await _legacy(session, LEGACY_ANY_SNAPSHOT) == stored
    # and all of it is what the tie rules say, among the entries of the snapshot's benchmark
    groups: dict[tuple[str, int], list[Raw]] = defaultdict(list)
    for entry in raw:
        groups[(entry.benchmark, entry.snapshot_id)].append(entry)
    expected = {id: standing for group in groups.values() for id, standing in _expected(group).items()}
    assert stored == expected
    among = dict(
        (await session.execute(select(db.LeaderboardEntry.id, db.LeaderboardEntry.ranked_among))).all()
    )
    assert among == {entry.id: len(group) for group in groups.values() for entry in group}
    # and standing every snapshot in one statement (as the bench generator does) gives the same
    await session.execute(
        update(db.LeaderboardEntry).values(position=None, percentile=None, ranked_among=None)
    )
    await restand(session, list((await session.scalars(select(db.LeaderboardSnapshot.id))).all()))
    assert await _stored(session) == stored


async def test_the_api_serves_the_standings_the_tie_rules_give(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given
    await _random_board(session)
    current = await _current(session)
    raw = [entry for entry in await _raw(session) if entry.snapshot_id in current]
    by_benchmark: dict[str, list[Raw]] = defaultdict(list)
    for entry in raw:
        by_benchmark[entry.benchmark].append(entry)

    for benchmark, entries in sorted(by_benchmark.items()):
        standings = _expected(entries)
        expected = [
            {
                "rawModelName": entry.name,
                "score": str(plain(entry.score)),
                "position": standings[entry.id][0],
                "percentile": round(standings[entry.id][1], 2),
                "model": {"uri": entry.model_uri} if entry.model_uri else None,
            }
            for entry in _listed(entries)
        ]

        # when the whole leaderboard is read at once, and page by page
        whole = await client.data(LEADERBOARD, {"benchmark": benchmark, "first": 100})
        paged: list[object] = []
        after = None
        while True:
            page = await client.data(LEADERBOARD, {"benchmark": benchmark, "first": 4, "after": after})
            paged.extend(page["leaderboard"]["nodes"])
            if not page["leaderboard"]["pageInfo"]["hasNextPage"]:
                break
            after = page["leaderboard"]["pageInfo"]["endCursor"]

        # then both are the current snapshot, in order, with the standings of the tie rules
        assert [node["score"] for node in whole["leaderboard"]["nodes"]] == [e["score"] for e in expected]
        assert whole["leaderboard"]["nodes"] == expected, benchmark
        assert whole["leaderboard"]["totalCount"] == len(expected) == page["leaderboard"]["totalCount"]
        assert paged == expected, benchmark

    # and each benchmark counts its current entries
    counts = await client.data(ENTRY_COUNTS)
    assert {node["key"]: node["entryCount"] for node in counts["benchmarks"]["nodes"]} == {
        key: len(entries) for key, entries in by_benchmark.items()
    }

    # and each model's scores are its best current entry per benchmark, with that entry's standing
    for uri in sorted({entry.model_uri for entry in raw if entry.model_uri}):
        mine: dict[str, list[Raw]] = defaultdict(list)
        for entry in raw:
            if entry.model_uri == uri:
                mine[entry.benchmark].append(entry)
        expected_scores = []
        for benchmark in sorted(mine):
            best = _listed(mine[benchmark])[0]
            position, percentile = _expected(by_benchmark[benchmark])[best.id]
            expected_scores.append(
                {
                    "benchmark": {"key": benchmark},
                    "rawModelName": best.name,
                    "position": position,
                    "percentile": round(percentile, 2),
                }
            )
        data = await client.data(SCORES, {"uri": uri})
        assert [
            {key: value for key, value in score.items() if key != "score"}
            for score in data["model"]["scores"]
        ] == expected_scores, uri


async def test_refreshes_store_the_standings_and_a_turned_direction_restands_history(
    sessions: async_sessionmaker[RequestSession], session: RequestSession
) -> None:
    # given every source refreshed once from its recorded sample
    await refresh(sessions, SETTINGS, force=True, offline=True, clock=lambda: T0)
    # and a benchmark whose recorded direction differs from its source's (as when a spec changes)
    turned = next(key for key, source in sorted(SOURCES.items()) if source.benchmarks)
    spec = SOURCES[turned].benchmarks[0]
    key = f"{turned}:{spec.key}"
    await session.execute(
        update(db.Benchmark).where(db.Benchmark.key == key).values(higher_is_better=not spec.higher_is_better)
    )
    await restand(session, list((await session.scalars(select(db.LeaderboardSnapshot.id))).all()))
    await session.commit()
    turned_scores = await session.scalars(
        select(db.LeaderboardEntry.score).join(db.Benchmark).where(db.Benchmark.key == key).distinct()
    )
    assert len(turned_scores.all()) > 1  # so that its direction changes its standings

    # when every source is refreshed again a week later
    await refresh(sessions, SETTINGS, force=True, offline=True, clock=lambda: T0 + timedelta(days=7))

    # then both snapshots of every source stand as the read-time SQL ranks them, the turned
    # benchmark's old snapshot in its direction again
    stored = await _stored(session)
    assert len(stored) > 100
    assert await _legacy(session, LEGACY_ANY_SNAPSHOT) == stored
    windows = await _legacy_windows(session)
    assert windows == {id: stored[id] for id in windows}
    assert (await _legacy(session, LEGACY_BEST_SCORES)).items() <= stored.items()
    direction = await session.scalar(select(db.Benchmark.higher_is_better).where(db.Benchmark.key == key))
    assert direction is spec.higher_is_better


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _nodes(child)


async def _grow_board(session: RequestSession, model: db.Model, entries: int) -> None:
    """One source with an old and a current snapshot of ``entries`` entries each; ``model`` in both."""
    source = db.LeaderboardSource(key="grow", name="grow", validators={})
    benchmark = db.Benchmark(key="grow:elo", source_key="grow", name="elo", higher_is_better=True)
    session.add_all([source, benchmark])
    await session.flush()
    for week in range(2):
        snapshot = db.LeaderboardSnapshot(source_id=source.id, fetched_at=T0 + timedelta(days=7 * week))
        session.add(snapshot)
        await session.flush()
        await session.execute(
            insert(db.LeaderboardEntry),
            [
                {
                    "benchmark_id": benchmark.id,
                    "snapshot_id": snapshot.id,
                    "model_id": model.id if n == entries // 2 else None,
                    "raw_model_name": f"n{n:05d}",
                    "score": Decimal(n % 97),
                    "source": "grow",
                }
                for n in range(entries)
            ],
        )
        await restand(session, [snapshot.id])
    await session.commit()


async def _entry_rows_read(
    client: GraphQLClient, engine: AsyncEngine, connection: AsyncConnection
) -> dict[str, int]:
    """Rows each read takes from leaderboard_entry (EXPLAIN ANALYZE of the statements it sends)."""
    read: dict[str, int] = {}
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "leaderboard_entry" in statement:
            captured.append((statement, parameters))

    for label, query, variables in [
        ("top 5", LEADERBOARD, {"benchmark": "grow:elo", "first": 5}),
        ("scores", SCORES, {"uri": "org/grower"}),
    ]:
        captured.clear()
        event.listen(engine.sync_engine, "before_cursor_execute", capture)
        try:
            await client.data(query, variables)
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", capture)
        assert captured, label
        read[label] = 0
        for statement, parameters in captured:
            found = await connection.exec_driver_sql(
                f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}", parameters
            )
            nodes = list(_nodes(found.scalar_one()[0]["Plan"]))
            assert not {"WindowAgg", "Aggregate"} & {node["Node Type"] for node in nodes}, label
            read[label] += sum(
                int(node["Actual Rows"]) * int(node["Actual Loops"])
                for node in nodes
                if node.get("Relation Name") == "leaderboard_entry"
            )
    return read


async def test_a_top_page_and_a_models_scores_read_the_same_rows_at_any_size(
    session: RequestSession, client: GraphQLClient, engine: AsyncEngine, connection: AsyncConnection
) -> None:
    # given a model on a board of 20 entries per snapshot, then (another test run) of 2,000
    model = db.Model(uri="org/grower", source_kind="huggingface")
    session.add(model)
    await session.flush()
    await _grow_board(session, model, 20)
    await connection.execute(text("ANALYZE leaderboard_entry"))
    small = await _entry_rows_read(client, engine, connection)
    await session.execute(delete(db.LeaderboardSource).where(db.LeaderboardSource.key == "grow"))
    await session.execute(delete(db.Benchmark).where(db.Benchmark.key == "grow:elo"))
    await _grow_board(session, model, 2_000)
    await connection.execute(text("ANALYZE leaderboard_entry"))

    # when the same reads run on the board 100 times larger
    large = await _entry_rows_read(client, engine, connection)

    # then no window or count runs, and each read takes as few rows from leaderboard_entry at
    # either size: the page (and the row after it) and one row for its totalCount, and at most the
    # model's own entries (one per snapshot; one when the plan seeks the current snapshot's)
    bound = {"top 5": 7, "scores": 2}
    assert [{label: rows <= bound[label] for label, rows in read.items()} for read in (small, large)] == [
        {"top 5": True, "scores": True}
    ] * 2, (small, large)
