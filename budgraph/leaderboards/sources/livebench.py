"""LiveBench: the two files livebench.ai loads for a release, ``table_<YYYY_MM_DD>.csv`` (a "model"
column, then one column per task, scores 0-100) and ``categories_<YYYY_MM_DD>.json`` (category name
-> its task columns).

The page computes everything else, and so does ``parse``, the same way: a category's score is the
mean of the model's task scores in it (missing tasks skipped), the global average is the mean of the
category scores (given only when every category has a score), both shown to two decimals. Releases
are named by date and there is no index of them, so the release is a parameter; its date is the
snapshot's publication date. Categories: Reasoning, Coding, Agentic Coding, Mathematics,
Data Analysis, Language, IF (instruction following); an unknown category still counts in the
global average.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from budgraph.leaderboards.sources.base import (
    BenchmarkSpec,
    LeaderboardSource,
    SourceRequest,
    SourceSettings,
    SourceSnapshot,
    expect_payloads,
)
from budgraph.leaderboards.sources.entries import ScoreTable
from budgraph.leaderboards.sources.errors import SourceParseError
from budgraph.leaderboards.sources.values import load_json, read_csv, to_date, to_decimal

LATEST_KNOWN_RELEASE = "2026_01_08"
_CENT = Decimal("0.01")
_CATEGORIES = {
    "Reasoning": "reasoning",
    "Coding": "coding",
    "Agentic Coding": "agentic_coding",
    "Mathematics": "mathematics",
    "Data Analysis": "data_analysis",
    "Language": "language",
    "IF": "instruction_following",
    "Instruction Following": "instruction_following",
}


def _score(key: str, name: str, category: str) -> BenchmarkSpec:
    return BenchmarkSpec(key, name, category, "score", "0-100", True)


class LiveBench(LeaderboardSource):
    key = "livebench"
    name = "LiveBench"
    homepage_url = "https://livebench.ai/"
    benchmarks = (
        _score("global_average", "Global average", "general"),
        _score("reasoning", "Reasoning", "reasoning"),
        _score("coding", "Coding", "coding"),
        _score("agentic_coding", "Agentic coding", "coding"),
        _score("mathematics", "Mathematics", "math"),
        _score("data_analysis", "Data analysis", "data_analysis"),
        _score("language", "Language", "language"),
        _score("instruction_following", "Instruction following", "instruction_following"),
    )
    sample_files = ("livebench.table.csv", "livebench.categories.json")
    base_url = "https://livebench.ai"

    def __init__(self, release: str = LATEST_KNOWN_RELEASE) -> None:
        released = to_date(release)
        if released is None:
            raise ValueError(f"a LiveBench release is named YYYY_MM_DD, not {release!r}")
        self.release = released.strftime("%Y_%m_%d")
        self.released: date = released

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [
            SourceRequest(f"{self.base_url}/table_{self.release}.csv", {"Accept": "text/csv"}),
            SourceRequest(f"{self.base_url}/categories_{self.release}.json", {"Accept": "application/json"}),
        ]

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, 2)
        rows = read_csv(payloads[0], f"{self.key} table", ("model",))
        categories = load_json(payloads[1], f"{self.key} categories")
        if not isinstance(categories, dict) or not all(
            isinstance(tasks, list) and all(isinstance(t, str) for t in tasks)
            for tasks in categories.values()
        ):
            raise SourceParseError(f"{self.key}: categories is not an object of task lists")
        table = ScoreTable()
        for row in rows:
            name = row["model"].strip()
            if not name:
                continue
            averages: dict[str, Decimal] = {}
            for category, tasks in categories.items():
                scores = [to_decimal(row.get(task), f"{self.key} {name} {task}") for task in tasks]
                present = [score for score in scores if score is not None]
                if present:
                    averages[category] = sum(present, Decimal(0)) / len(present)
            for category, average in averages.items():
                if category in _CATEGORIES:
                    table.add(name, _CATEGORIES[category], average.quantize(_CENT, ROUND_HALF_UP))
            if averages and len(averages) == len(categories):
                overall = sum(averages.values(), Decimal(0)) / len(averages)
                table.add(name, "global_average", overall.quantize(_CENT, ROUND_HALF_UP))
        return self.snapshot(self.released, table.entries(self))
