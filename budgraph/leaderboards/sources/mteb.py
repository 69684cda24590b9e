"""MTEB (Massive Text Embedding Benchmark), English v1: the leaderboard's overall table as the
leaderboard publishes it, ``boards_data/en/data_overall/default.jsonl`` in the
embeddings-benchmark/leaderboard repository (one JSON object per line, the table the leaderboard
space renders).

Keys: "Rank", "Model" (an HTML link: ``<a ... href="https://huggingface.co/BAAI/bge-large-en-v1.5">
bge-large-en-v1.5</a>``), "Model Size (Million Parameters)", "Memory Usage (GB, fp32)",
"Embedding Dimensions", "Max Tokens", "Average (56 datasets)" and one "<Task> Average (n datasets)"
per task type; scores are 0-100, blank cells are "". Task columns are matched by prefix since the
dataset counts are part of the name. When the link is a Hugging Face model page whose name is the
link text, the entry is named by the repository id ("BAAI/bge-large-en-v1.5"). This summary belongs
to the classic (v1) leaderboard, which stopped changing when MTEB v2 replaced it in 2025; the file
has no date.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

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
from budgraph.leaderboards.sources.values import load_json_lines, scalar, to_decimal, to_int

_LINK = re.compile(r"<a\b[^>]*?href=\"([^\"]*)\"[^>]*>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_HF_MODEL = re.compile(r"^https?://huggingface\.co/([\w.-]+/[\w.-]+)/?$")
_PREFIXES = {
    "average": "Average (",
    "classification": "Classification Average (",
    "clustering": "Clustering Average (",
    "pair_classification": "PairClassification Average (",
    "reranking": "Reranking Average (",
    "retrieval": "Retrieval Average (",
    "sts": "STS Average (",
    "summarization": "Summarization Average (",
}


def _score(key: str, name: str) -> BenchmarkSpec:
    return BenchmarkSpec(key, name, "embedding", "score", "0-100", True)


def model_name(cell: str) -> tuple[str, str | None]:
    """The entry name and link of a "Model" cell."""
    link = _LINK.search(cell)
    if link is None:
        return html.unescape(cell).strip(), None
    href, text = html.unescape(link.group(1)), html.unescape(link.group(2)).strip()
    hub = _HF_MODEL.match(href)
    if hub and hub.group(1).rpartition("/")[2].lower() == text.lower():
        return hub.group(1), href
    return text, href


class Mteb(LeaderboardSource):
    key = "mteb"
    name = "MTEB (English, v1)"
    homepage_url = "https://huggingface.co/spaces/mteb/leaderboard"
    benchmarks = (
        _score("average", "Average (56 datasets)"),
        _score("classification", "Classification"),
        _score("clustering", "Clustering"),
        _score("pair_classification", "Pair classification"),
        _score("reranking", "Reranking"),
        _score("retrieval", "Retrieval"),
        _score("sts", "Semantic textual similarity"),
        _score("summarization", "Summarization"),
    )
    sample_files = ("mteb.jsonl",)
    url = (
        "https://raw.githubusercontent.com/embeddings-benchmark/leaderboard/main/"
        "boards_data/en/data_overall/default.jsonl"
    )

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        return [SourceRequest(self.url)]

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, 1)
        table = ScoreTable()
        seen: set[str] = set()
        for row in load_json_lines(payloads[0], self.key):
            if not isinstance(row, dict) or not isinstance(row.get("Model"), str):
                raise SourceParseError(f"{self.key}: a line has no 'Model'")
            name, link = model_name(row["Model"])
            if not name or name in seen:
                continue
            seen.add(name)
            what = f"{self.key} {name}"
            table.describe(
                name,
                {
                    "url": link,
                    "model_size_m": scalar(to_decimal(row.get("Model Size (Million Parameters)"), what)),
                    "memory_gb_fp32": scalar(to_decimal(row.get("Memory Usage (GB, fp32)"), what)),
                    "embedding_dimensions": to_int(row.get("Embedding Dimensions"), what),
                    "max_tokens": to_int(row.get("Max Tokens"), what),
                },
            )
            for key, prefix in _PREFIXES.items():
                column = _column(row, prefix)
                if column is not None:
                    rank = to_int(row.get("Rank"), what) if key == "average" else None
                    table.add(name, key, to_decimal(row[column], what), rank, {"column": column})
        return self.snapshot(None, table.entries(self))


def _column(row: Mapping[str, Any], prefix: str) -> str | None:
    return next((column for column in row if column.startswith(prefix)), None)
