"""SQL for leaderboards: benchmarks, sources, and the entries of each source's current snapshot.

A source's *current* snapshot is its latest (highest ``fetched_at``, then id); older snapshots are
history and never ranked. An entry's standing (position, percentile) is its place among the entries
of its benchmark in its snapshot, best first in the benchmark's own direction, before any filter (so
filtering a leaderboard never changes anyone's percentile). Standings change only when a snapshot
is written, so they are computed then, by ``restand`` (one UPDATE over a window of the snapshots
written), and read as plain columns: a leaderboard page and a model's scores read only their rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Row,
    Select,
    Subquery,
    Table,
    Update,
    case,
    distinct,
    exists,
    func,
    inspect,
    literal,
    or_,
    select,
    true,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import array, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql import FromClause

from budgraph import db
from budgraph.kit.search import contains

# A SELECT of any number of columns (the entity-only statements are ``Select[Any]``).
RowsSelect = Select[*tuple[Any, ...]]
AnyRow = Row[*tuple[Any, ...]]


@dataclass(frozen=True)
class RankedEntry:
    """A current entry with its standing among the entries of its benchmark in its snapshot."""

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


def _goodness(entry: Any = db.LeaderboardEntry) -> ColumnElement[Any]:
    """The score made "higher is better" whatever the benchmark's direction."""
    return case((db.Benchmark.higher_is_better, entry.score), else_=-entry.score)


def restand_statement(snapshot_ids: Sequence[int] | None) -> Update:
    """Set the standing of every entry of the given snapshots (``None``: of all of them).

    position = rank() and percentile = 100 * (1 - percent_rank()) over the entries of one
    benchmark in one snapshot, best first: ties share the better value, a lone entry is 100;
    ranked_among = how many entries that is. These are the expressions the reads computed on
    every request before they were stored (migration 0009 backfilled with the same window); rows
    whose standing is already right are not rewritten.
    """
    entry = aliased(db.LeaderboardEntry, name="entry")
    best_first: dict[str, Any] = {
        "partition_by": (entry.benchmark_id, entry.snapshot_id),
        "order_by": _goodness(entry).desc(),
    }
    stood = select(
        entry.id,
        func.rank().over(**best_first).label("position"),
        (100 * (1 - func.percent_rank().over(**best_first))).label("percentile"),
        func.count().over(partition_by=best_first["partition_by"]).label("ranked_among"),
    ).join(db.Benchmark, db.Benchmark.id == entry.benchmark_id)
    if snapshot_ids is not None:
        stood = stood.where(entry.snapshot_id.in_(snapshot_ids))
    standing = stood.subquery("stood")
    table = db.LeaderboardEntry.__table__
    assert isinstance(table, Table)
    return (
        update(table)
        .where(
            table.c.id == standing.c.id,
            or_(
                table.c.position.is_distinct_from(standing.c.position),
                table.c.percentile.is_distinct_from(standing.c.percentile),
                table.c.ranked_among.is_distinct_from(standing.c.ranked_among),
            ),
        )
        # a derived value, not an edit of the entry: its updated_at stays
        .values(
            position=standing.c.position,
            percentile=standing.c.percentile,
            ranked_among=standing.c.ranked_among,
            updated_at=table.c.updated_at,
        )
    )


async def restand(session: AsyncSession, snapshot_ids: Sequence[int]) -> None:
    """Store the standings of the entries of ``snapshot_ids``: every writer of entries calls it, in
    the transaction that wrote them (before it commits)."""
    if not snapshot_ids:
        return
    await session.flush()
    await session.execute(restand_statement(sorted(set(snapshot_ids))))
    chosen = set(snapshot_ids)
    for held in list(session.identity_map.values()):  # entries loaded before would keep old values
        if isinstance(held, db.LeaderboardEntry):
            snapshot_id = inspect(held).dict.get("snapshot_id")  # read without a load
            if snapshot_id is None or snapshot_id in chosen:
                session.expire(held, ["position", "percentile", "ranked_among"])


async def snapshots_of_benchmarks(session: AsyncSession, benchmark_ids: Sequence[int]) -> list[int]:
    """The snapshots holding entries of these benchmarks (to stand again when a direction changes)."""
    entry = db.LeaderboardEntry
    rows = await session.scalars(
        select(entry.snapshot_id).where(entry.benchmark_id.in_(benchmark_ids)).distinct()
    )
    return list(rows.all())


def _standing(entry: Any) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    # typed as percent_rank() was when it was computed here, so the API serves the same digits
    return type_coerce(entry.percentile, Numeric()).label("percentile"), entry.position.label("position")


def _stored_size_of(benchmark_id: Any, snapshot_id: Any) -> ColumnElement[Any]:
    """How many entries ``benchmark_id`` has in the snapshot ``snapshot_id``: the stored
    ``ranked_among`` of one of them (an index lookup), null when it has none. ``restand`` writes it
    with the snapshot's entries, in their transaction, so it is never stale."""
    entry = db.LeaderboardEntry
    return (
        select(entry.ranked_among)
        .where(entry.benchmark_id == benchmark_id, entry.snapshot_id == snapshot_id)
        .limit(1)
        .scalar_subquery()
    )


def board_size_statement(benchmark: db.Benchmark) -> Select[Any]:
    """How many entries an unfiltered leaderboard of ``benchmark`` lists, read from the stored
    ``ranked_among`` of the snapshots it lists instead of counted: its source's current snapshot's,
    or, when it has no source key, the sum over every source's current snapshot."""
    if benchmark.source_key is None:
        current = current_snapshots()
        size = func.sum(_stored_size_of(benchmark.id, current.c.id))
        return select(func.coalesce(size, 0)).select_from(current)
    latest = _latest_snapshot(literal(benchmark.source_key))
    return select(func.coalesce(_stored_size_of(benchmark.id, latest), 0))


def to_ranked(row: AnyRow) -> RankedEntry:
    entry, percentile, position, fetched_at, benchmark_key = tuple(row)[:5]
    if percentile is None or position is None:
        raise RuntimeError(f"leaderboard entry {entry.id} has no stored standing (restand was not called)")
    return RankedEntry(entry, float(percentile), int(position), fetched_at, benchmark_key)


def leaderboard_statement(benchmark: db.Benchmark, query: EntryQuery) -> RowsSelect:
    """The current entries of one benchmark, best first (its own direction), ties by raw name.

    Entries are listed by their stored position in the current snapshot of the benchmark's source:
    the index on (benchmark, snapshot, position, name, id) yields the page in order, and the
    standings are the rows' own columns (no window, no count).
    """
    entry, snapshot = db.LeaderboardEntry, db.LeaderboardSnapshot
    if benchmark.source_key is not None:  # as refreshes write them: one snapshot to read
        current: ColumnElement[bool] = entry.snapshot_id == _latest_snapshot(literal(benchmark.source_key))
    else:
        current = entry.snapshot_id.in_(select(current_snapshots().c.id))
    stmt: RowsSelect = (
        select(
            entry,
            *_standing(entry),
            snapshot.fetched_at.label("fetched_at"),
            literal(benchmark.key).label("benchmark_key"),
        )
        .join(snapshot, snapshot.id == entry.snapshot_id)
        .where(entry.benchmark_id == benchmark.id, current)
    )
    if query.search:
        stmt = stmt.where(entry.raw_model_name.ilike(contains(query.search)))
    if query.matched_only:
        stmt = stmt.where(entry.model_id.is_not(None))
    if query.model_ids is not None:
        stmt = stmt.where(entry.model_id.in_(query.model_ids))
    return stmt.order_by(*_board_order(entry))


def _board_order(entry: Any) -> tuple[ColumnElement[Any], ...]:
    """Best first by the stored position (``rank()`` in the benchmark's own direction: the score's
    order, whichever the direction, so one order and one index serve every board), ties by raw name."""
    return (entry.position.asc(), entry.raw_model_name.asc(), entry.id.asc())


def _latest_snapshot(source_key: ColumnElement[Any]) -> ColumnElement[Any]:
    """The id of the latest snapshot of the source of that key (null when it has none)."""
    snapshot, source = db.LeaderboardSnapshot, db.LeaderboardSource
    return (
        select(snapshot.id)
        .join(source, source.id == snapshot.source_id)
        .where(source.key == source_key)
        .order_by(snapshot.fetched_at.desc(), snapshot.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _board_snapshots(benchmark_key: ColumnElement[str]) -> FromClause:
    """The snapshots a leaderboard of the benchmark of that key lists (one ``id`` column), chosen
    as ``leaderboard_statement`` chooses them: the latest of its source's when it has a source key,
    else the latest of every source."""
    source_key = select(db.Benchmark.source_key).where(db.Benchmark.key == benchmark_key).scalar_subquery()
    snapshots = case(
        (source_key.is_(None), func.array(select(current_snapshots().c.id).scalar_subquery())),
        else_=array([_latest_snapshot(source_key)]),
    )
    return func.unnest(snapshots).table_valued("id").render_derived(name="board_snapshot")


def _benchmark_id(benchmark_key: ColumnElement[str]) -> ColumnElement[Any]:
    return select(db.Benchmark.id).where(db.Benchmark.key == benchmark_key).scalar_subquery()


def board_statement(benchmark_key: ColumnElement[str], candidates: int) -> Select[Any]:
    """The first entries of ``leaderboard_statement``'s unfiltered board, with the benchmark given
    by its key (a bind parameter, so one statement serves every benchmark): its first
    ``candidates`` rows are the same rows in the same order.

    The rows are chosen among the first ``candidates`` entries of each snapshot the board lists,
    each read in order from the index on (benchmark, snapshot, position, raw name, id), so a page
    reads its own rows (times the number of snapshots), never the whole board: a board of one
    snapshot (a benchmark with a source key) costs the same at any size."""
    entry = db.LeaderboardEntry
    snapshot = _board_snapshots(benchmark_key)
    first = aliased(entry, name="first_entry")
    firsts = (
        select(first.id)
        .where(first.benchmark_id == _benchmark_id(benchmark_key), first.snapshot_id == snapshot.c.id)
        .order_by(*_board_order(first))
        .limit(candidates)
        .lateral("firsts")
    )
    chosen = select(firsts.c.id).select_from(snapshot).join(firsts, true())
    return select(entry).where(entry.id.in_(chosen)).order_by(*_board_order(entry))


def benchmark_known_statement(benchmark_key: ColumnElement[str]) -> Select[Any]:
    """Whether a benchmark of that key exists (else a leaderboard of it is an error, not empty)."""
    return select(exists().where(db.Benchmark.key == benchmark_key))


def board_total_statement(benchmark_key: ColumnElement[str]) -> Select[Any]:
    """How many entries ``board_statement``'s board lists, as the leaderboard reports it: the stored
    ``ranked_among`` of the snapshots it lists, summed (``board_size_statement``), never counted."""
    snapshot = _board_snapshots(benchmark_key)
    size = func.sum(_stored_size_of(_benchmark_id(benchmark_key), snapshot.c.id))
    return select(func.coalesce(size, 0)).select_from(snapshot)


def best_scores_of_model(model_id: Any) -> RowsSelect:
    """``best_scores`` of one model (``model_id``: a column of the surrounding query): its best
    current entry per benchmark, with the benchmark's key as ``benchmark_key`` to list them by."""
    entry, benchmark = db.LeaderboardEntry, db.Benchmark
    current = current_snapshots()
    return (
        select(entry, benchmark.key.label("benchmark_key"))
        .join(current, current.c.id == entry.snapshot_id)
        .join(benchmark, benchmark.id == entry.benchmark_id)
        .where(entry.model_id == model_id)
        .ext(distinct_on(entry.benchmark_id))
        .order_by(entry.benchmark_id, _goodness().desc(), entry.raw_model_name, entry.id)
    )


async def best_scores(
    session: AsyncSession, model_ids: Sequence[int], benchmark_keys: tuple[str, ...] | None
) -> list[RankedEntry]:
    """Per model and benchmark, its best current entry (several raw names can match one model),
    with its stored standing: the model's entries in the current snapshots (an index range on
    (model, snapshot)), whatever the size of its leaderboards."""
    entry, benchmark = db.LeaderboardEntry, db.Benchmark
    current = current_snapshots()
    stmt = (
        select(
            entry,
            *_standing(entry),
            current.c.fetched_at.label("fetched_at"),
            benchmark.key.label("benchmark_key"),
        )
        .join(current, current.c.id == entry.snapshot_id)
        .join(benchmark, benchmark.id == entry.benchmark_id)
        .where(entry.model_id.in_(model_ids))
        .ext(distinct_on(entry.model_id, entry.benchmark_id))
        .order_by(entry.model_id, entry.benchmark_id, _goodness().desc(), entry.raw_model_name, entry.id)
    )
    if benchmark_keys is not None:
        stmt = stmt.where(benchmark.key.in_(benchmark_keys))
    return [to_ranked(row) for row in (await session.execute(stmt)).all()]


async def current_entry_counts(session: AsyncSession, benchmark_ids: Sequence[int]) -> dict[int, int]:
    """How many entries each benchmark has in the current snapshots: the stored ``ranked_among`` of
    one entry per benchmark and current snapshot (an index lookup each), summed; nothing counted."""
    entry, benchmark = db.LeaderboardEntry, db.Benchmark
    current = current_snapshots()
    size = (
        select(entry.ranked_among)
        .where(entry.benchmark_id == benchmark.id, entry.snapshot_id == current.c.id)
        .limit(1)
        .lateral("size")
    )
    rows = await session.execute(
        select(benchmark.id, func.sum(size.c.ranked_among))
        .select_from(benchmark)
        .join(current, true())
        .join(size, true())
        .where(benchmark.id.in_(benchmark_ids))
        .group_by(benchmark.id)
    )
    return {benchmark_id: int(count) for benchmark_id, count in rows.all()}


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
