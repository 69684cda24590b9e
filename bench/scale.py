"""How big a generated registry is. Counts are totals (the seed's rows included), so a scale says what
a client sees, whatever the seed already holds."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    name: str
    models: int
    leaderboard_entries: int
    # Model updates in the change log (status `registered` -> `ready`), on top of every row's create.
    model_updates: int
    engines: int = 12
    engine_versions: int = 300
    architectures: int = 400
    hardware: int = 80
    hardware_prices: int = 2_000
    # Leaderboards: sources x weekly snapshots (history is kept) x benchmarks per source.
    sources: int = 8
    snapshots_per_source: int = 10
    benchmarks_per_source: int = 5

    @property
    def entries_per_benchmark_snapshot(self) -> int:
        return max(1, self.leaderboard_entries // self.benchmark_snapshots)

    @property
    def benchmark_snapshots(self) -> int:
        return self.sources * self.snapshots_per_source * self.benchmarks_per_source


SCALES = {
    "1x": Scale("1x", models=50_000, leaderboard_entries=500_000, model_updates=25_000),
    # 10x multiplies what grows with use: models, leaderboard entries and changes.
    "10x": Scale("10x", models=500_000, leaderboard_entries=5_000_000, model_updates=250_000),
}

# For the tests: every kind of row, a few of each, in a second or two.
TINY = Scale(
    "tiny",
    models=400,
    leaderboard_entries=2_400,
    model_updates=150,
    engine_versions=40,
    architectures=370,
    hardware=35,
    hardware_prices=80,
    sources=2,
    snapshots_per_source=3,
    benchmarks_per_source=2,
)
