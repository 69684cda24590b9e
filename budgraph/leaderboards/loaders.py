"""Per-request loaders of benchmarks, leaderboard sources and current scores."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.kit.loaders import RowByIdLoader, SessionLoader
from budgraph.leaderboards import repository
from budgraph.leaderboards.repository import RankedEntry


class BenchmarkByIdLoader(RowByIdLoader[db.Benchmark]):
    table = db.Benchmark


class BenchmarkByKeyLoader(SessionLoader[str, db.Benchmark | None]):
    async def load_many_keys(self, keys: list[str]) -> list[db.Benchmark | None]:
        by_key = {row.key: row for row in await repository.benchmarks_by_keys(self.session, keys)}
        return [by_key.get(key) for key in keys]


class BenchmarksBySourceKeyLoader(SessionLoader[str, list[db.Benchmark]]):
    """The benchmarks recorded for each source key, by benchmark key."""

    async def load_many_keys(self, keys: list[str]) -> list[list[db.Benchmark]]:
        by_source: dict[str, list[db.Benchmark]] = {key: [] for key in keys}
        for row in await repository.benchmarks_of_sources(self.session, keys):
            if row.source_key is not None:
                by_source[row.source_key].append(row)
        return [by_source[key] for key in keys]


class LeaderboardSourceRowByKeyLoader(SessionLoader[str, db.LeaderboardSource | None]):
    """The stored state (refresh times, status) of each source key; None before its first refresh."""

    async def load_many_keys(self, keys: list[str]) -> list[db.LeaderboardSource | None]:
        by_key = {row.key: row for row in await repository.sources_by_keys(self.session, keys)}
        return [by_key.get(key) for key in keys]


class CurrentEntryCountByBenchmarkLoader(SessionLoader[int, int]):
    """How many entries each benchmark has in its source's current snapshot."""

    async def load_many_keys(self, keys: list[int]) -> list[int]:
        counts = await repository.current_entry_counts(self.session, keys)
        return [counts.get(key, 0) for key in keys]


class ScoresByModelLoader(SessionLoader[int, list[RankedEntry]]):
    """Each model's best current entry per benchmark, by benchmark key, on the benchmarks given
    (or all of them)."""

    def __init__(self, session: AsyncSession, benchmark_keys: tuple[str, ...] | None) -> None:
        super().__init__(session)
        self.benchmark_keys = benchmark_keys

    async def load_many_keys(self, keys: list[int]) -> list[list[RankedEntry]]:
        by_model: dict[int, list[RankedEntry]] = {key: [] for key in keys}
        for ranked in await repository.best_scores(self.session, keys, self.benchmark_keys):
            assert ranked.entry.model_id is not None
            by_model[ranked.entry.model_id].append(ranked)
        return [sorted(by_model[key], key=lambda ranked: ranked.benchmark_key) for key in keys]


class AliasesByModelLoader(SessionLoader[int, list[str]]):
    """The leaderboard aliases of each model, as recorded, by key."""

    async def load_many_keys(self, keys: list[int]) -> list[list[str]]:
        by_model: dict[int, list[str]] = {key: [] for key in keys}
        for row in await repository.aliases_of_models(self.session, keys):
            by_model[row.model_id].append(row.alias)
        return [by_model[key] for key in keys]
