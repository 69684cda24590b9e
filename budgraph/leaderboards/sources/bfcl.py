"""Berkeley Function Calling Leaderboard (BFCL): the ``data_overall.csv`` its web page loads
(https://gorilla.cs.berkeley.edu/data_overall.csv, also written by ``bfcl`` to ``score/``).

Columns are read by name because they grow with each BFCL version. Always present: "Rank",
"Overall Acc", "Model", "Model Link", "Organization", "License"; accuracies are percentages written
"74.24%", missing values "N/A". BFCL v3 added "Multi Turn Acc"; v4 added "Web Search Acc" and
"Memory Acc" and renamed the cost column "Total Cost ($)" (v3: "Cost ($ Per 1k Function Calls)").
A model is listed once per calling mode, "GPT-4o-2024-11-20 (FC)" and "(Prompt)": the mode is
moved to ``extra["mode"]`` and only the model's best-ranked mode is kept. The file has no date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from budgraph.leaderboards.sources.base import (
    BenchmarkSpec,
    LeaderboardSource,
    SourceRequest,
    SourceSettings,
    SourceSnapshot,
    expect_payloads,
)
from budgraph.leaderboards.sources.entries import ScoreTable
from budgraph.leaderboards.sources.values import read_csv, scalar, to_decimal, to_int, to_text

_MODE = re.compile(r"\s*\((FC|Prompt)\)", re.IGNORECASE)
_COLUMNS = {
    "overall": "Overall Acc",
    "non_live_ast": "Non-Live AST Acc",
    "live": "Live Acc",
    "multi_turn": "Multi Turn Acc",
    "web_search": "Web Search Acc",
    "memory": "Memory Acc",
    "relevance": "Relevance Detection",
    "irrelevance": "Irrelevance Detection",
}


def _accuracy(key: str, name: str, category: str = "function_calling") -> BenchmarkSpec:
    return BenchmarkSpec(key, name, category, "%", "0-100", True)


class BerkeleyFunctionCalling(LeaderboardSource):
    key = "bfcl"
    name = "Berkeley Function Calling Leaderboard"
    homepage_url = "https://gorilla.cs.berkeley.edu/leaderboard.html"
    benchmarks = (
        _accuracy("overall", "Overall accuracy"),
        _accuracy("non_live_ast", "Non-live (AST) accuracy"),
        _accuracy("live", "Live accuracy"),
        _accuracy("multi_turn", "Multi-turn accuracy"),
        _accuracy("web_search", "Agentic: web search accuracy"),
        _accuracy("memory", "Agentic: memory accuracy"),
        _accuracy("relevance", "Relevance detection", "hallucination"),
        _accuracy("irrelevance", "Irrelevance detection", "hallucination"),
    )
    sample_files = ("bfcl.csv",)
    url = "https://gorilla.cs.berkeley.edu/data_overall.csv"

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [SourceRequest(self.url, {"Accept": "text/csv"})]

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, 1)
        rows = read_csv(payloads[0], self.key, ("Rank", "Overall Acc", "Model"))
        best: dict[str, tuple[int, Decimal, dict[str, str], str | None]] = {}
        for row in rows:
            label = row["Model"].strip()
            overall = to_decimal(row["Overall Acc"], f"{self.key} {label}")
            rank = to_int(row["Rank"], f"{self.key} {label} rank")
            if not label or overall is None or rank is None:
                continue
            calling = _MODE.search(label)
            name = " ".join(_MODE.sub(" ", label).split())
            current = best.get(name)
            if current is None or (rank, -overall) < (current[0], -current[1]):
                best[name] = (rank, overall, row, calling.group(1) if calling else None)
        table = ScoreTable()
        for name, (rank, overall, row, mode) in best.items():
            cost = row.get("Total Cost ($)") or row.get("Cost ($ Per 1k Function Calls)")
            table.describe(
                name,
                {
                    "mode": mode,
                    "model_link": to_text(row.get("Model Link")),
                    "organization": to_text(row.get("Organization")),
                    "license": to_text(row.get("License")),
                    "cost_usd": scalar(to_decimal(cost, f"{self.key} {name} cost")),
                    "latency_mean_s": scalar(to_decimal(row.get("Latency Mean (s)"), f"{self.key} {name}")),
                },
            )
            table.add(name, "overall", overall, rank)
            for key, column in _COLUMNS.items():
                if key != "overall":
                    table.add(name, key, to_decimal(row.get(column), f"{self.key} {name} {column}"))
        return self.snapshot(None, table.entries(self))
