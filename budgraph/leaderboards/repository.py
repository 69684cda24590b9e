"""SQL for leaderboards: benchmarks, sources, and the entries of each source's current snapshot.

A source's *current* snapshot is its latest (highest ``fetched_at``, then id); older snapshots are
history and never ranked. An entry's standing (percentile, position) is computed with window
functions over every current entry of its benchmark, before any filter, in the benchmark's own
direction, so filtering a leaderboard never changes anyone's percentile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Row,
    Select,
    Subquery,
    case,
    cast,
    distinct,
    func,
    literal,
    select,
    true,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from budgraph import db
from budgraph.kit.search import contains

# A SELECT of any number of columns (the entity-only statements are ``Select[Any]``).
RowsSelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class RankedEntry:
    """A current entry with its standing among the current entries of its benchmark."""

    entry: db.LeaderboardEntry
    percentile: float
    position: int
    fetched_at: datetime
    benchmark_key: str


@dataclass(frozen=True)
class BenchmarkQuery:
    search: str | None = None
    source_keys: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class EntryQuery:
    search: str | None = None
    matched_only: bool = False
    model_ids: tuple[int, ...] | None = None


def current_snapshots() -> Subquery:
    """The latest snapshot of each source."""
    snapshot = db.LeaderboardSnapshot
    return (
        select(snapshot.id, snapshot.fetched_at)
        .ext(distinct_on(snapshot.source_id))
        .order_by(snapshot.source_id, snapshot.fetched_at.desc(), snapshot.id.desc())
        .subquery()
    )


def _goodness() -> ColumnElement[Any]:
    """The score made "higher is better" whatever the benchmark's direction."""
    entry = db.LeaderboardEntry
    return case((db.Benchmark.higher_is_better, entry.score), else_=-entry.score)


def ranked_entries(scope: ColumnElement[bool] | None = None) -> Subquery:
    """Current entries (of the benchmarks in ``scope``) with goodness, percentile and position.

    percentile = 100 * (1 - percent_rank) over the benchmark's entries, best first: the share of
    the other entries that score no better; ties share the better value, a lone entry is 100.
    """
    entry = db.LeaderboardEntry
    current = current_snapshots()
    goodness = _goodness()
    best_first: dict[str, Any] = {"partition_by": entry.benchmark_id, "order_by": goodness.desc()}
    stmt = (
        select(
            entry,
            goodness.label("goodness"),
            (100 * (1 - func.percent_rank().over(**best_first))).label("percentile"),
            func.rank().over(**best_first).label("position"),
            current.c.fetched_at.label("fetched_at"),
            db.Benchmark.key.label("benchmark_key"),
        )
        .join(current, current.c.id == entry.snapshot_id)
        .join(db.Benchmark, db.Benchmark.id == entry.benchmark_id)
    )
    if scope is not None:
        stmt = stmt.where(scope)
    return stmt.subquery()


def _select_ranked(ranked: Subquery) -> RowsSelect:
    entry = aliased(db.LeaderboardEntry, ranked)
    return select(entry, ranked.c.percentile, ranked.c.position, ranked.c.fetched_at, ranked.c.benchmark_key)


def to_ranked(row: AnyRow) -> RankedEntry:
    entry, percentile, position, fetched_at, benchmark_key = tuple(row)[:5]
    return RankedEntry(entry, float(percentile), int(position), fetched_at, benchmark_key)


def leaderboard_statement(benchmark: db.Benchmark, query: EntryQuery) -> RowsSelect:
    """The current entries of one benchmark, best first (its own direction), ties by raw name.

    The benchmark's direction is known here, so entries are ranked by their score itself (not by a
    "goodness" expression) in the current snapshot of the benchmark's source: the index on
    (benchmark, snapshot, score, name, id) then yields the ranking in order, with no sort.
    """
    entry = db.LeaderboardEntry
    snapshot, source = db.LeaderboardSnapshot, db.LeaderboardSource
    if benchmark.source_key is not None:  # as refreshes write them: one snapshot to read
        latest = (
            select(snapshot.id)
            .join(source, source.id == snapshot.source_id)
            .where(source.key == benchmark.source_key)
            .order_by(snapshot.fetched_at.desc(), snapshot.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        current: ColumnElement[bool] = entry.snapshot_id == latest
    else:
        current = entry.snapshot_id.in_(select(current_snapshots().c.id))
    best = entry.score.desc().nulls_last() if benchmark.higher_is_better else entry.score.asc()
    listed: list[ColumnElement[Any]] = [best, entry.raw_model_name.asc(), entry.id.asc()]
    ranked = (
        select(
            entry,
            (100 * (1 - func.percent_rank().over(order_by=best))).label("percentile"),
            func.rank().over(order_by=best).label("position"),
            # Not read, but selected: it makes the windows' input (and so their output) the list's
            # own order; without it PostgreSQL sorts the page again by name and id after ranking.
            func.row_number().over(order_by=listed).label("listed_at"),
            snapshot.fetched_at.label("fetched_at"),
            literal(benchmark.key).label("benchmark_key"),
        )
        .join(snapshot, snapshot.id == entry.snapshot_id)
        .where(entry.benchmark_id == benchmark.id, current)
        .subquery()
    )
    stmt = _select_ranked(ranked).add_columns(ranked.c.listed_at)
    if query.search:
        stmt = stmt.where(ranked.c.raw_model_name.ilike(contains(query.search)))
    if query.matched_only:
        stmt = stmt.where(ranked.c.model_id.is_not(None))
    if query.model_ids is not None:
        stmt = stmt.where(ranked.c.model_id.in_(query.model_ids))
    score = ranked.c.score.desc().nulls_last() if benchmark.higher_is_better else ranked.c.score.asc()
    return stmt.order_by(score, ranked.c.raw_model_name.asc(), ranked.c.id.asc())


async def best_scores(
    session: AsyncSession, model_ids: Sequence[int], benchmark_keys: tuple[str, ...] | None
) -> list[RankedEntry]:
    """Per model and benchmark, its best current entry (several raw names can match one model).

    Its standing is what ``ranked_entries`` gives it, counted instead of ranked: its position is one
    more than the current entries of its benchmark that score better, its percentile
    ``100 * (1 - (position - 1) / (n - 1))`` (``percent_rank``'s own arithmetic), and both counts
    are ranges of the index on (benchmark, snapshot, score): a model's scores cost the same
    whatever the size of its leaderboards.
    """
    entry, benchmark = db.LeaderboardEntry, db.Benchmark
    current = current_snapshots()
    found = (
        select(
            entry,
            current.c.fetched_at.label("fetched_at"),
            benchmark.key.label("benchmark_key"),
            benchmark.higher_is_better.label("higher_is_better"),
        )
        .join(current, current.c.id == entry.snapshot_id)
        .join(benchmark, benchmark.id == entry.benchmark_id)
        .where(entry.model_id.in_(model_ids))
        .ext(distinct_on(entry.model_id, entry.benchmark_id))
        .order_by(entry.model_id, entry.benchmark_id, _goodness().desc(), entry.raw_model_name, entry.id)
    )
    if benchmark_keys is not None:
        found = found.where(benchmark.key.in_(benchmark_keys))
    best = found.subquery()
    other = aliased(db.LeaderboardEntry)
    same_board = (other.benchmark_id == best.c.benchmark_id) & other.snapshot_id.in_(
        select(current_snapshots().c.id)
    )

    wins = case((best.c.higher_is_better, other.score > best.c.score), else_=other.score < best.c.score)
    # One pass over the benchmark's current entries (an index range) counts both.
    standing = (
        select(func.count().label("total"), func.count().filter(wins).label("better"))
        .select_from(other)
        .where(same_board)
        .lateral("standing")
    )
    total, better = standing.c.total, standing.c.better
    percent_rank = case((total > 1, cast(better, Float) / (total - 1)), else_=literal(0.0, Float))
    stmt = select(
        aliased(db.LeaderboardEntry, best),
        # typed as percent_rank() is, so both views of a standing give the same digits
        type_coerce(100 * (1 - percent_rank), Numeric()).label("percentile"),
        (better + 1).label("position"),
        best.c.fetched_at,
        best.c.benchmark_key,
    )
    stmt = stmt.select_from(best.join(standing, true())).order_by(best.c.model_id, best.c.benchmark_id)
    return [to_ranked(row) for row in (await session.execute(stmt)).all()]


async def current_entry_counts(session: AsyncSession, benchmark_ids: Sequence[int]) -> dict[int, int]:
    entry = db.LeaderboardEntry
    current = current_snapshots()
    rows = await session.execute(
        select(entry.benchmark_id, func.count())
        .join(current, current.c.id == entry.snapshot_id)
        .where(entry.benchmark_id.in_(benchmark_ids))
        .group_by(entry.benchmark_id)
    )
    return {benchmark_id: count for benchmark_id, count in rows.all()}


def unmatched_names_statement(source_key: str | None) -> RowsSelect:
    """Distinct raw names of current entries linked to no model, most entries first."""
    entry = db.LeaderboardEntry
    current = current_snapshots()
    entries = func.count().label("entries")
    stmt: RowsSelect = (
        select(entry.raw_model_name, entries, func.array_agg(distinct(entry.source)).label("sources"))
        .join(current, current.c.id == entry.snapshot_id)
        .where(entry.model_id.is_(None))
        .group_by(entry.raw_model_name)
    )
    if source_key is not None:
        stmt = stmt.where(entry.source == source_key)
    return stmt.order_by(entries.desc(), entry.raw_model_name.asc())


def benchmarks_statement(query: BenchmarkQuery) -> Select[Any]:
    benchmark = db.Benchmark
    stmt = select(benchmark)
    if query.search:
        pattern = contains(query.search)
        stmt = stmt.where(benchmark.key.ilike(pattern) | benchmark.name.ilike(pattern))
    if query.source_keys is not None:
        stmt = stmt.where(benchmark.source_key.in_(query.source_keys))
    if query.categories is not None:
        stmt = stmt.where(benchmark.category.in_(query.categories))
    return stmt.order_by(benchmark.key.asc(), benchmark.id.asc())


async def benchmarks_by_keys(session: AsyncSession, keys: Sequence[str]) -> list[db.Benchmark]:
    return list((await session.scalars(select(db.Benchmark).where(db.Benchmark.key.in_(keys)))).all())


async def benchmarks_of_sources(session: AsyncSession, source_keys: Sequence[str]) -> list[db.Benchmark]:
    rows = await session.scalars(
        select(db.Benchmark).where(db.Benchmark.source_key.in_(source_keys)).order_by(db.Benchmark.key)
    )
    return list(rows.all())


async def sources_by_keys(session: AsyncSession, keys: Sequence[str]) -> list[db.LeaderboardSource]:
    rows = await session.scalars(select(db.LeaderboardSource).where(db.LeaderboardSource.key.in_(keys)))
    return list(rows.all())


async def aliases_of_models(session: AsyncSession, model_ids: Sequence[int]) -> list[db.ModelAlias]:
    rows = await session.scalars(
        select(db.ModelAlias)
        .where(db.ModelAlias.model_id.in_(model_ids))
        .order_by(db.ModelAlias.model_id, db.ModelAlias.key)
    )
    return list(rows.all())
