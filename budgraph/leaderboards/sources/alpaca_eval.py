"""AlpacaEval 2.0: the leaderboard CSV in the tatsu-lab/alpaca_eval repository
(``src/alpaca_eval/leaderboards/data_AlpacaEval_2/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv``),
the file the leaderboard page renders.

The first column is unnamed and holds the model name; then ``win_rate``, ``standard_error``,
``n_wins``, ``n_wins_base``, ``n_draws``, ``n_total``, ``discrete_win_rate``, ``mode``
(verified / minimal / community / dev), ``avg_length``, ``length_controlled_winrate`` and
``lc_standard_error``. Win rates are percentages (0-100) against GPT-4 Turbo (gpt4_1106_preview,
which scores 50). Rows in "dev" mode are prompt-length ablations, not models, and are skipped. The
file has no rank (computed) and no date.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from budgraph.leaderboards.sources.base import (
    BenchmarkSpec,
    LeaderboardSource,
    SourceRequest,
    SourceSettings,
    SourceSnapshot,
    expect_payloads,
)
from budgraph.leaderboards.sources.entries import ScoreTable
from budgraph.leaderboards.sources.values import read_csv, scalar, to_decimal, to_int


class AlpacaEval(LeaderboardSource):
    key = "alpaca_eval"
    name = "AlpacaEval 2.0"
    homepage_url = "https://tatsu-lab.github.io/alpaca_eval/"
    benchmarks = (
        BenchmarkSpec("lc_win_rate", "Length-controlled win rate", "chat", "%", "0-100", True),
        BenchmarkSpec("win_rate", "Win rate", "chat", "%", "0-100", True),
    )
    sample_files = ("alpaca_eval.csv",)
    url = (
        "https://raw.githubusercontent.com/tatsu-lab/alpaca_eval/main/src/alpaca_eval/leaderboards/"
        "data_AlpacaEval_2/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv"
    )

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [SourceRequest(self.url, {"Accept": "text/csv"})]

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, 1)
        rows = read_csv(payloads[0], self.key, ("", "win_rate", "length_controlled_winrate", "mode"))
        table = ScoreTable()
        for row in rows:
            name = row[""].strip()
            if not name or row["mode"].strip() == "dev":
                continue
            what = f"{self.key} {name}"
            table.describe(
                name,
                {
                    "mode": row["mode"].strip() or None,
                    "avg_length": to_int(row.get("avg_length"), what),
                    "n_total": to_int(row.get("n_total"), what),
                },
            )
            lc_error = to_decimal(row.get("lc_standard_error"), what)
            error = to_decimal(row.get("standard_error"), what)
            table.add(
                name,
                "lc_win_rate",
                to_decimal(row["length_controlled_winrate"], what),
                extra={"standard_error": scalar(lc_error)},
            )
            table.add(
                name, "win_rate", to_decimal(row["win_rate"], what), extra={"standard_error": scalar(error)}
            )
        return self.snapshot(None, table.entries(self))
