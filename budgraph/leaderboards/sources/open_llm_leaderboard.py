"""Open LLM Leaderboard v2: the ``open-llm-leaderboard/contents`` dataset, read as JSON pages from
the dataset viewer API (the same table is published as one parquet file; JSON avoids pyarrow).

One row per evaluated (repository, precision): ``fullname`` is the repository id, ``eval_name``
``<org>_<name>_<precision>``. The six benchmark columns ("IFEval", "BBH", "MATH Lvl 5", "GPQA",
"MUSR", "MMLU-PRO") are the leaderboard's normalised scores (0-100, random baseline at 0) and
"Average ⬆️" is their mean; "<benchmark> Raw" columns hold the raw accuracy (0-1), kept in
``extra["raw"]``. The leaderboard was archived in 2025, so the table no longer changes; it has no
rank column (ranks are computed) and no publication date (the latest "Submission Date" stands in).
A repository evaluated in several precisions is kept once, in its best-averaging precision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from budgraph.leaderboards.sources import hf_datasets
from budgraph.leaderboards.sources.base import (
    BenchmarkSpec,
    LeaderboardSource,
    SourceRequest,
    SourceSettings,
    SourceSnapshot,
    expect_payloads,
)
from budgraph.leaderboards.sources.entries import ScoreTable
from budgraph.leaderboards.sources.values import scalar, to_date, to_decimal, to_text

AVERAGE = "Average ⬆️"
# benchmark key -> (column, raw column)
_COLUMNS = {
    "ifeval": ("IFEval", "IFEval Raw"),
    "bbh": ("BBH", "BBH Raw"),
    "math_lvl5": ("MATH Lvl 5", "MATH Lvl 5 Raw"),
    "gpqa": ("GPQA", "GPQA Raw"),
    "musr": ("MUSR", "MUSR Raw"),
    "mmlu_pro": ("MMLU-PRO", "MMLU-PRO Raw"),
}
_MODEL_COLUMNS = {
    "eval_name": "eval_name",
    "precision": "Precision",
    "type": "Type",
    "architecture": "Architecture",
    "params_b": "#Params (B)",
    "hub_license": "Hub License",
    "official_provider": "Official Providers",
    "merged": "Merged",
    "moe": "MoE",
    "flagged": "Flagged",
    "submission_date": "Submission Date",
}


def _normalised(key: str, name: str, category: str) -> BenchmarkSpec:
    return BenchmarkSpec(key, name, category, "normalised score", "0-100", True)


class OpenLlmLeaderboard(LeaderboardSource):
    key = "open_llm_leaderboard"
    name = "Open LLM Leaderboard v2"
    homepage_url = "https://huggingface.co/spaces/open-llm-leaderboard/open_llm_leaderboard"
    benchmarks = (
        _normalised("average", "Average", "general"),
        _normalised("ifeval", "IFEval", "instruction_following"),
        _normalised("bbh", "BBH", "reasoning"),
        _normalised("math_lvl5", "MATH Level 5", "math"),
        _normalised("gpqa", "GPQA", "knowledge"),
        _normalised("musr", "MuSR", "reasoning"),
        _normalised("mmlu_pro", "MMLU-PRO", "knowledge"),
    )
    sample_files = ("open_llm_leaderboard.json",)
    dataset = {"dataset": "open-llm-leaderboard/contents", "config": "default", "split": "train"}

    def __init__(self, max_rows: int = 6000) -> None:
        self.max_rows = max_rows

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [hf_datasets.first_page("rows", self.dataset, settings)]

    def follow_ups(self, request: SourceRequest, body: bytes) -> list[SourceRequest]:
        return hf_datasets.next_page(request, body, self.max_rows)

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, None)
        best: dict[str, tuple[Decimal, str, Mapping[str, Any]]] = {}
        for row in hf_datasets.all_rows(payloads, self.key):
            name = to_text(row.get("fullname"))
            average = to_decimal(row.get(AVERAGE), f"{self.key} {name} average")
            if name is None or average is None:
                continue
            eval_name = to_text(row.get("eval_name")) or ""
            current = best.get(name)
            if current is None or average > current[0] or (average == current[0] and eval_name < current[1]):
                best[name] = (average, eval_name, row)
        table = ScoreTable()
        submitted: list[date] = []
        for name, (average, _, row) in best.items():
            table.describe(name, {key: scalar(row.get(column)) for key, column in _MODEL_COLUMNS.items()})
            table.add(name, "average", average)
            for key, (column, raw_column) in _COLUMNS.items():
                raw = to_decimal(row.get(raw_column), f"{self.key} {name} {raw_column}")
                table.add(
                    name,
                    key,
                    to_decimal(row.get(column), f"{self.key} {name} {column}"),
                    extra={"raw": scalar(raw)},
                )
            when = to_date(row.get("Submission Date"))
            if when is not None:
                submitted.append(when)
        return self.snapshot(max(submitted, default=None), table.entries(self))
