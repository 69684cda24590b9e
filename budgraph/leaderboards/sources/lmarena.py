"""LMArena (formerly LMSYS Chatbot Arena): the text arena's overall leaderboard from the
``lmarena-ai/leaderboard-dataset`` dataset (subset ``text``, split ``latest``), read through the
dataset viewer's ``/filter`` API with ``"category"='overall'``.

Columns, as documented with the dataset: ``model_name`` (LMArena's model key, such as
``gpt-4o-2024-05-13``), ``organization``, ``license``, ``rating`` (Bradley-Terry "Elo" score),
``rating_lower`` / ``rating_upper`` (95% confidence interval), ``variance``, ``vote_count``,
``rank`` (rank by upper bound, as shown on lmarena.ai), ``category`` and
``leaderboard_publish_date``. The style-controlled board is a separate subset and not read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

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
from budgraph.leaderboards.sources.values import scalar, to_date, to_decimal, to_int, to_text


class LmArena(LeaderboardSource):
    key = "lmarena"
    name = "LMArena (Chatbot Arena)"
    homepage_url = "https://lmarena.ai/leaderboard"
    benchmarks = (BenchmarkSpec("text_overall", "Text Arena (overall)", "chat", "Elo", "elo", True),)
    sample_files = ("lmarena.json",)
    dataset = {
        "dataset": "lmarena-ai/leaderboard-dataset",
        "config": "text",
        "split": "latest",
        "where": "\"category\"='overall'",
    }

    def __init__(self, max_rows: int = 2000) -> None:
        self.max_rows = max_rows

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [hf_datasets.first_page("filter", self.dataset, settings)]

    def follow_ups(self, request: SourceRequest, body: bytes) -> list[SourceRequest]:
        return hf_datasets.next_page(request, body, self.max_rows)

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, None)
        rows = [
            row
            for row in hf_datasets.all_rows(payloads, self.key)
            if to_text(row.get("category")) in (None, "overall")
        ]
        # "latest" holds one publication; should it ever hold more, only the newest is kept.
        dates = [d for d in (to_date(row.get("leaderboard_publish_date")) for row in rows) if d]
        published: date | None = max(dates, default=None)
        table = ScoreTable()
        for row in rows:
            name = to_text(row.get("model_name"))
            if name is None or (published and to_date(row.get("leaderboard_publish_date")) != published):
                continue
            what = f"{self.key} {name}"
            rating = to_decimal(row.get("rating"), what)
            lower = to_decimal(row.get("rating_lower"), what)
            upper = to_decimal(row.get("rating_upper"), what)
            extra = {
                "ci_lower": scalar(lower),
                "ci_upper": scalar(upper),
                "ci_plus": scalar(upper - rating if upper is not None and rating is not None else None),
                "ci_minus": scalar(rating - lower if lower is not None and rating is not None else None),
                "votes": to_int(row.get("vote_count"), what),
                "variance": scalar(to_decimal(row.get("variance"), what)),
                "organization": to_text(row.get("organization")),
                "license": to_text(row.get("license")),
            }
            table.add(name, "text_overall", rating, to_int(row.get("rank"), what), extra)
        return self.snapshot(published, table.entries(self))
