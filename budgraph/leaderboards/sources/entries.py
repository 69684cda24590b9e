"""Collecting a leaderboard's scores into entries, ranking those the leaderboard does not rank."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from budgraph.leaderboards.sources.base import JsonScalar, LeaderboardSource, RawEntry
from budgraph.leaderboards.sources.values import competition_ranks


@dataclass
class _Score:
    score: Decimal
    rank: int | None
    extra: dict[str, JsonScalar]


@dataclass
class ScoreTable:
    """Scores by benchmark and model. A rank given to ``add`` is the published one; the others are
    computed per benchmark (competition ranking in the benchmark's direction)."""

    _scores: dict[str, dict[str, _Score]] = field(default_factory=dict)
    _model_extra: dict[str, dict[str, JsonScalar]] = field(default_factory=dict)

    def describe(self, model: str, extra: Mapping[str, JsonScalar]) -> None:
        """Extras shared by every entry of ``model`` (organisation, licence, links)."""
        self._model_extra.setdefault(model, {}).update(extra)

    def add(
        self,
        model: str,
        benchmark: str,
        score: Decimal | None,
        rank: int | None = None,
        extra: Mapping[str, JsonScalar] | None = None,
    ) -> None:
        if score is None:
            return
        self._scores.setdefault(benchmark, {})[model] = _Score(score, rank, dict(extra or {}))

    def entries(self, source: LeaderboardSource) -> list[RawEntry]:
        """Entries in benchmark order, then rank order."""
        entries: list[RawEntry] = []
        for spec in source.benchmarks:
            scores = self._scores.get(spec.key, {})
            computed = competition_ranks({m: s.score for m, s in scores.items()}, spec.higher_is_better)
            ranked = [
                RawEntry(
                    model,
                    spec.key,
                    item.score,
                    item.rank if item.rank is not None else computed[model],
                    {**self._model_extra.get(model, {}), **item.extra},
                )
                for model, item in scores.items()
            ]
            entries.extend(sorted(ranked, key=lambda e: (e.rank or 0, e.raw_model_name)))
        return entries
