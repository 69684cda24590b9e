"""Root query fields of leaderboards: benchmarks, rankings, comparisons, sources, unmatched names."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated

import strawberry

from budgraph import db
from budgraph.graphql.context import Info
from budgraph.kit.db import AnyRow
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.ids import expect_global_id
from budgraph.kit.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    PageRequest,
    build_connection,
    fetch_page,
    paginate,
    stored_count,
)
from budgraph.leaderboards import loaders, repository
from budgraph.leaderboards.matching import normalise
from budgraph.leaderboards.repository import RankedEntry, to_ranked
from budgraph.leaderboards.sources.registry import SOURCES
from budgraph.leaderboards.types import (
    Benchmark,
    BenchmarkFilter,
    ComparisonCell,
    ComparisonRow,
    ComparisonSummary,
    LeaderboardEntry,
    LeaderboardEntryFilter,
    LeaderboardSource,
    ModelComparison,
    UnmatchedLeaderboardName,
)
from budgraph.models.loaders import ModelByIdLoader
from budgraph.models.types import Model

MIN_COMPARED, MAX_COMPARED = 2, 20


def _benchmark_keys(benchmarks: list[str] | None) -> tuple[str, ...] | None:
    return tuple(dict.fromkeys(benchmarks)) if benchmarks is not None else None


def _mean_percentile(scored: list[RankedEntry]) -> float | None:
    """The mean of unrounded percentiles, rounded once. Raw scores are never averaged."""
    if not scored:
        return None
    return round(sum(ranked.percentile for ranked in scored) / len(scored), 2)


async def compare(info: Info, ids: list[strawberry.ID], benchmarks: list[str] | None) -> ModelComparison:
    if not MIN_COMPARED <= len(ids) <= MAX_COMPARED:
        raise BudgraphError(f"compare {MIN_COMPARED} to {MAX_COMPARED} models; {len(ids)} given", field="ids")
    pks = [expect_global_id(id, "Model") for id in ids]
    if len(set(pks)) != len(pks):
        raise BudgraphError("a model is given twice", field="ids")
    models = await info.context.loaders.get(ModelByIdLoader).load_many(pks)
    missing = [id for id, row in zip(ids, models, strict=True) if row is None]
    if missing:
        raise NotFound(f"no model with id {', '.join(missing)}", field="ids")
    keys = _benchmark_keys(benchmarks)
    found: Sequence[db.Benchmark | AnyRow | None] = []
    if keys is not None:
        found = await info.context.loaders.get(loaders.BenchmarkByKeyLoader).load_many(list(keys))
        unknown = [key for key, row in zip(keys, found, strict=True) if row is None]
        if unknown:
            raise NotFound(f"no benchmark {', '.join(map(repr, unknown))}", field="benchmarks")
    scores = await info.context.loaders.get(loaders.ScoresByModelLoader, keys).load_many(pks)
    if keys is None:
        seen = {ranked.benchmark_key: ranked.entry.benchmark_id for entries in scores for ranked in entries}
        found = await info.context.loaders.get(loaders.BenchmarkByIdLoader).load_many(
            [seen[key] for key in sorted(seen)]
        )
    by_cell = {
        (pk, ranked.entry.benchmark_id): ranked
        for pk, entries in zip(pks, scores, strict=True)
        for ranked in entries
    }
    row_benchmarks = [benchmark for benchmark in found if benchmark is not None]
    grid = [[by_cell.get((pk, benchmark.id)) for pk in pks] for benchmark in row_benchmarks]
    rows = [
        ComparisonRow(
            benchmark=Benchmark.from_row(benchmark),
            cells=[ComparisonCell.from_ranked(cell) if cell else None for cell in cells],
        )
        for benchmark, cells in zip(row_benchmarks, grid, strict=True)
    ]
    summary = []
    for column, row in enumerate(models):
        assert row is not None
        scored = [cell for cells in grid if (cell := cells[column]) is not None]
        summary.append(
            ComparisonSummary(
                model=Model.from_row(row),
                mean_percentile=_mean_percentile(scored),
                benchmark_count=len(scored),
            )
        )
    model_types = [summary_row.model for summary_row in summary]
    return ModelComparison(models=model_types, rows=rows, summary=summary)


@strawberry.type
class LeaderboardQueries:
    @strawberry.field(description="Benchmarks of the leaderboards the registry reads, by key.")
    async def benchmarks(
        self,
        info: Info,
        filter: Annotated[
            BenchmarkFilter | None, strawberry.argument(description="Which benchmarks to list.")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Benchmark]:
        query = repository.BenchmarkQuery(
            search=filter.search if filter else None,
            source_keys=tuple(filter.sources) if filter and filter.sources is not None else None,
            categories=tuple(filter.categories) if filter and filter.categories is not None else None,
        )
        stmt = repository.benchmarks_statement(query)
        return await paginate(info.context.session, stmt, Benchmark.from_row, first, after, last, before)

    @strawberry.field(description="One benchmark by key; null if there is none.")
    async def benchmark(
        self,
        info: Info,
        key: Annotated[str, strawberry.argument(description="Its key, e.g. `lmarena:text_overall`.")],
    ) -> Benchmark | None:
        row = await info.context.loaders.get(loaders.BenchmarkByKeyLoader).load(key)
        return Benchmark.from_row(row) if row else None

    @strawberry.field(
        description="The ranking of one benchmark: the entries of its source's current (latest)"
        " snapshot, best first in the benchmark's own direction (highest score first, or lowest for"
        " latencies and prices), ties by name. Older snapshots are kept as history, never ranked."
    )
    async def leaderboard(
        self,
        info: Info,
        benchmark: Annotated[
            str, strawberry.argument(description="The benchmark's key, e.g. `lmarena:text_overall`.")
        ],
        filter: Annotated[
            LeaderboardEntryFilter | None,
            strawberry.argument(
                description="Which entries to list; positions and percentiles stay"
                " those of the whole snapshot."
            ),
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[LeaderboardEntry]:
        page = PageRequest.parse(first, after, last, before)
        row = await info.context.loaders.get(loaders.BenchmarkByKeyLoader).load(benchmark)
        if row is None:
            raise NotFound(f"no benchmark {benchmark!r}", field="benchmark")
        query = repository.EntryQuery(
            search=filter.search if filter else None,
            matched_only=filter.matched_only if filter else False,
            model_ids=(
                tuple(expect_global_id(id, "Model") for id in filter.model_ids)
                if filter and filter.model_ids is not None
                else None
            ),
        )
        stmt = repository.leaderboard_statement(row, query)
        found = await fetch_page(info.context.session, stmt, page, whole_rows=True)
        if query == repository.EntryQuery():  # the whole board: its size is stored with its standings
            size = repository.board_size_statement(row)
            found = replace(found, count=stored_count(info.context.session, size))
        return build_connection(found, lambda r: LeaderboardEntry.from_ranked(to_ranked(r)))

    @strawberry.field(
        description="Models side by side on current leaderboard scores, with each model's mean"
        " percentile. Raw scores are never averaged across benchmarks: their scales differ."
    )
    async def compare_models(
        self,
        info: Info,
        ids: Annotated[
            list[strawberry.ID],
            strawberry.argument(
                description="Global ids of 2 to 20 models, each once; columns follow this order."
            ),
        ],
        benchmarks: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Benchmark keys to compare on, in row order (default: every benchmark on"
                " which one of the models has a current score)."
            ),
        ] = None,
    ) -> ModelComparison:
        return await compare(info, ids, benchmarks)

    @strawberry.field(
        description="Names current leaderboard snapshots use that no registry model is linked to, most"
        " entries first: candidates for `addModelAlias`."
    )
    async def unmatched_leaderboard_names(
        self,
        info: Info,
        source: Annotated[
            str | None, strawberry.argument(description="Only names of this source (by key).")
        ] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[UnmatchedLeaderboardName]:
        page = PageRequest.parse(first, after, last, before)
        stmt = repository.unmatched_names_statement(source)
        found = await fetch_page(info.context.session, stmt, page, whole_rows=True)
        return build_connection(
            found,
            lambda row: UnmatchedLeaderboardName(
                raw_model_name=row.raw_model_name,
                normalised_name=normalise(row.raw_model_name),
                entry_count=row.entries,
                source_keys=sorted(row.sources),
            ),
        )

    @strawberry.field(
        description="Every leaderboard source the registry knows, by key, with its refresh state."
    )
    async def leaderboard_sources(self, info: Info) -> list[LeaderboardSource]:
        keys = sorted(SOURCES)
        rows = await info.context.loaders.get(loaders.LeaderboardSourceRowByKeyLoader).load_many(keys)
        built = [LeaderboardSource.build(key, row) for key, row in zip(keys, rows, strict=True)]
        return [source for source in built if source is not None]
