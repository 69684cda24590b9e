"""GraphQL types of leaderboards: sources, benchmarks, entries, and model comparisons."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry.scalars import JSON

from budgraph import db
from budgraph.db.enums import SourceRunStatus
from budgraph.graphql.context import Info
from budgraph.graphql.node import Node, register_node
from budgraph.kit.db import AnyRow
from budgraph.kit.decimals import plain
from budgraph.kit.ids import to_global_id
from budgraph.leaderboards import loaders
from budgraph.leaderboards.refresh import REFRESH_INTERVAL
from budgraph.leaderboards.repository import RankedEntry
from budgraph.leaderboards.sources.registry import SOURCES

if TYPE_CHECKING:
    from budgraph.models.types import Model

PERCENTILE = (
    "Standing within the benchmark's current snapshot, 0-100, 100 = best: the share of the other"
    " entries of that snapshot that score no better, in the benchmark's own direction (ties share"
    " the better value; a lone entry is 100). Rounded to two decimals."
)


@strawberry.enum(description="How a leaderboard's model name was linked to a registry model.")
class LeaderboardMatchMethod(Enum):
    EXACT = "exact"
    ALIAS = "alias"
    NORMALISED = "normalised"


@strawberry.enum(description="How a leaderboard source's last refresh went.")
class LeaderboardRefreshStatus(Enum):
    SUCCEEDED = SourceRunStatus.SUCCEEDED.value
    UNCHANGED = SourceRunStatus.UNCHANGED.value
    FAILED = SourceRunStatus.FAILED.value


def _match_method(value: str | None) -> LeaderboardMatchMethod | None:
    known = {method.value: method for method in LeaderboardMatchMethod}
    return known.get(value) if value is not None else None


@strawberry.type(
    description="A public leaderboard the registry reads every week, and how its refreshes went."
)
class LeaderboardSource:
    key: str = strawberry.field(description="Stable short name, e.g. `lmarena`; prefixes its benchmark keys.")
    name: str = strawberry.field(description="Display name.")
    homepage_url: str | None = strawberry.field(description="Where the leaderboard is published.")
    enabled: bool = strawberry.field(description="Whether refreshes read this source.")
    last_started_at: datetime | None = strawberry.field(description="When the last refresh started.")
    last_success_started_at: datetime | None = strawberry.field(
        description="When the last successful refresh (new or unchanged data) started."
    )
    last_finished_at: datetime | None = strawberry.field(description="When the last refresh ended.")
    last_status: LeaderboardRefreshStatus | None = strawberry.field(
        description="How the last refresh went; null before the first one."
    )
    last_error: str | None = strawberry.field(description="Why the last refresh failed, if it did.")
    next_due_at: datetime | None = strawberry.field(
        description="When the source is next due: 7 days after its last successful refresh started."
        " Null (never read successfully) or a past time means it is due now; the weekly refresh,"
        " or `refreshLeaderboards`, then reads it."
    )

    @classmethod
    def build(cls, key: str, row: db.LeaderboardSource | None) -> LeaderboardSource | None:
        """The source ``key`` as declared in code, merged with its stored state; None if neither exists."""
        declared = SOURCES.get(key)
        if declared is None and row is None:
            return None
        last_success = row.last_success_started_at if row else None
        return cls(
            key=key,
            name=declared.name if declared else row.name if row else key,
            homepage_url=declared.homepage_url if declared else row.homepage_url if row else None,
            enabled=row.enabled if row else True,
            last_started_at=row.last_started_at if row else None,
            last_success_started_at=last_success,
            last_finished_at=row.last_finished_at if row else None,
            last_status=LeaderboardRefreshStatus(row.last_status) if row and row.last_status else None,
            last_error=row.last_error if row else None,
            next_due_at=last_success + REFRESH_INTERVAL if last_success else None,
        )

    @strawberry.field(
        description="The benchmarks recorded for this source, by key (created by its first successful"
        " refresh)."
    )
    async def benchmarks(self, info: Info) -> list[Benchmark]:
        rows = await info.context.loaders.get(loaders.BenchmarksBySourceKeyLoader).load(self.key)
        return [Benchmark.from_row(row) for row in rows]


@strawberry.type(
    description="One ranked quantity of a leaderboard (a score, a rating, a speed, a price), with its"
    " unit, scale and direction. Scores of different benchmarks are on different scales."
)
class Benchmark(Node):
    pk: strawberry.Private[int]
    source_key: strawberry.Private[str | None]
    key: str = strawberry.field(
        description="Unique key, `<source key>:<benchmark key>`, e.g. `lmarena:text_overall`."
    )
    name: str = strawberry.field(description="Display name.")
    category: str | None = strawberry.field(description="What it measures, e.g. `coding`, `chat`, `cost`.")
    unit: str | None = strawberry.field(
        description="What a score is printed in, e.g. `Elo`, `%`, `tokens/s`."
    )
    scale: str | None = strawberry.field(
        description="The score's scale: `0-100`, `0-1` (bounded scores), `elo` (a relative rating) or"
        " `unbounded` (a measurement such as a speed or a price)."
    )
    higher_is_better: bool = strawberry.field(
        description="Whether a higher score is better (false for latencies and prices)."
    )

    @classmethod
    def from_row(cls, row: db.Benchmark | AnyRow) -> Benchmark:
        return cls(
            id=strawberry.ID(to_global_id("Benchmark", row.id)),
            pk=row.id,
            source_key=row.source_key,
            key=row.key,
            name=row.name,
            category=row.category,
            unit=row.unit,
            scale=row.scale,
            higher_is_better=row.higher_is_better,
        )

    @strawberry.field(description="The leaderboard that publishes it; null for benchmarks of no source.")
    async def source(self, info: Info) -> LeaderboardSource | None:
        if self.source_key is None:
            return None
        row = await info.context.loaders.get(loaders.LeaderboardSourceRowByKeyLoader).load(self.source_key)
        return LeaderboardSource.build(self.source_key, row)

    @strawberry.field(description="How many entries it has in its source's current (latest) snapshot.")
    async def entry_count(self, info: Info) -> int:
        return await info.context.loaders.get(loaders.CurrentEntryCountByBenchmarkLoader).load(self.pk)


@strawberry.input(description="Which benchmarks to list; all given conditions must hold.")
class BenchmarkFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the benchmark's key or name."
    )
    sources: list[str] | None = strawberry.field(
        default=None, description="Only benchmarks of these sources (by key, e.g. `lmarena`)."
    )
    categories: list[str] | None = strawberry.field(
        default=None, description="Only benchmarks of these categories (e.g. `coding`)."
    )


@strawberry.type(
    description="A model's score on a benchmark, as the leaderboard published it in its source's"
    " current (latest) snapshot."
)
class LeaderboardEntry:
    model_pk: strawberry.Private[int | None]
    benchmark_pk: strawberry.Private[int]
    score: Decimal = strawberry.field(
        description="The score as published, in the benchmark's unit and scale (see `benchmark`)."
    )
    rank: int | None = strawberry.field(
        description="The rank the leaderboard publishes, if it publishes one."
    )
    position: int = strawberry.field(
        description="1-based position by score in the benchmark's current snapshot, in the benchmark's"
        " direction; tied scores share a position."
    )
    percentile: float = strawberry.field(description=PERCENTILE)
    raw_model_name: str = strawberry.field(description="The model's name as the leaderboard writes it.")
    match_method: LeaderboardMatchMethod | None = strawberry.field(
        description="How the name was linked to a registry model; null when it is not linked."
    )
    published_on: date | None = strawberry.field(description="When the leaderboard published this data.")
    fetched_at: datetime = strawberry.field(description="When the registry read this snapshot.")
    source_key: str = strawberry.field(description="Key of the leaderboard source, e.g. `lmarena`.")
    extra: JSON = strawberry.field(
        description="Further values the leaderboard publishes with the score (confidence intervals,"
        " vote counts, ...), by name."
    )

    @classmethod
    def from_ranked(cls, ranked: RankedEntry) -> LeaderboardEntry:
        row = ranked.entry
        return cls(
            model_pk=row.model_id,
            benchmark_pk=row.benchmark_id,
            score=plain(row.score),
            rank=row.rank,
            position=ranked.position,
            percentile=round(ranked.percentile, 2),
            raw_model_name=row.raw_model_name,
            match_method=_match_method(row.match_method),
            published_on=row.published_on,
            fetched_at=ranked.fetched_at,
            source_key=row.source,
            extra=JSON(row.extra),
        )

    @strawberry.field(description="The registry model the name is linked to; null when unmatched.")
    async def model(self, info: Info) -> Annotated[Model, strawberry.lazy("budgraph.models.types")] | None:
        from budgraph.models.loaders import ModelByIdLoader
        from budgraph.models.types import Model

        if self.model_pk is None:
            return None
        row = await info.context.loaders.get(ModelByIdLoader).load(self.model_pk)
        return Model.from_row(row) if row else None

    @strawberry.field(description="The benchmark scored.")
    async def benchmark(self, info: Info) -> Benchmark:
        row = await info.context.loaders.get(loaders.BenchmarkByIdLoader).load(self.benchmark_pk)
        assert row is not None
        return Benchmark.from_row(row)


@strawberry.input(description="Which entries of a leaderboard to list; all given conditions must hold.")
class LeaderboardEntryFilter:
    search: str | None = strawberry.field(
        default=None, description="Case-insensitive substring of the model name as the leaderboard writes it."
    )
    matched_only: bool = strawberry.field(
        default=False, description="Only entries linked to a registry model."
    )
    model_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Only entries linked to these models (global ids)."
    )


@strawberry.type(description="One model's score on one benchmark of a comparison.")
class ComparisonCell:
    score: Decimal = strawberry.field(
        description="The score as published, in the row benchmark's unit and scale."
    )
    rank: int | None = strawberry.field(description="The rank the leaderboard publishes, if any.")
    position: int = strawberry.field(
        description="1-based position by score in the benchmark's current snapshot (ties share one)."
    )
    percentile: float = strawberry.field(description=PERCENTILE)
    published_on: date | None = strawberry.field(description="When the leaderboard published this score.")
    fetched_at: datetime = strawberry.field(description="When the registry read it.")
    source_key: str = strawberry.field(description="Key of the leaderboard source, e.g. `lmarena`.")
    raw_model_name: str = strawberry.field(description="The model's name as the leaderboard writes it.")

    @classmethod
    def from_ranked(cls, ranked: RankedEntry) -> ComparisonCell:
        row = ranked.entry
        return cls(
            score=plain(row.score),
            rank=row.rank,
            position=ranked.position,
            percentile=round(ranked.percentile, 2),
            published_on=row.published_on,
            fetched_at=ranked.fetched_at,
            source_key=row.source,
            raw_model_name=row.raw_model_name,
        )


@strawberry.type(description="One benchmark of a comparison, with a cell per compared model.")
class ComparisonRow:
    benchmark: Benchmark = strawberry.field(description="The benchmark.")
    cells: list[ComparisonCell | None] = strawberry.field(
        description="One cell per model, in the order of the `ids` argument; null when the model has no"
        " score on this benchmark."
    )


@strawberry.type(
    description="How one compared model does overall: the mean of its percentiles, never of its raw"
    " scores (an Elo rating near 1300, a fraction and a percentage cannot be averaged)."
)
class ComparisonSummary:
    model: Annotated[Model, strawberry.lazy("budgraph.models.types")] = strawberry.field(
        description="The model."
    )
    mean_percentile: float | None = strawberry.field(
        description="The mean of the model's percentiles (0-100, 100 = best) over the rows where it has"
        " a score, rounded to two decimals; null when it has none. Models scored on different"
        " benchmarks are averaged over different rows: read it with `benchmarkCount`."
    )
    benchmark_count: int = strawberry.field(description="How many rows the mean is taken over.")


@strawberry.type(
    description="Models side by side on the benchmarks of current leaderboard snapshots. Raw scores"
    " are only shown per benchmark; the only cross-benchmark figure is the mean percentile of"
    " `summary`, because benchmarks use different scales and directions."
)
class ModelComparison:
    models: list[Annotated[Model, strawberry.lazy("budgraph.models.types")]] = strawberry.field(
        description="The compared models, in the order of the `ids` argument."
    )
    rows: list[ComparisonRow] = strawberry.field(
        description="One row per benchmark: those asked for, in that order, or else every benchmark on"
        " which at least one of the models has a current score, by key."
    )
    summary: list[ComparisonSummary] = strawberry.field(
        description="One summary per model, in the order of the `ids` argument."
    )


@strawberry.type(description="A model name current leaderboards use that no registry model is linked to.")
class UnmatchedLeaderboardName:
    raw_model_name: str = strawberry.field(description="The name as the leaderboards write it.")
    normalised_name: str = strawberry.field(
        description="Its loosest normalised form (e.g. `llama-3.1-8b`): what registry models are compared"
        " in last. An alias for it is given to `addModelAlias` as the leaderboard writes it."
    )
    entry_count: int = strawberry.field(description="How many current entries carry this name.")
    source_keys: list[str] = strawberry.field(description="The sources whose current snapshots use it.")


register_node("Benchmark", loaders.BenchmarkByIdLoader, Benchmark.from_row)
