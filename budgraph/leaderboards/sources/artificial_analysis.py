"""Artificial Analysis: its data API, ``GET https://artificialanalysis.ai/api/v2/data/llms/models``
with the key in an ``x-api-key`` header (free keys exist; attribution to artificialanalysis.ai is a
condition of use).

The body is ``{"status": 200, "prompt_options": {...}, "data": [model, ...]}``; a model has ``id``,
``name`` ("GPT-4o (May '24)"), ``slug`` ("gpt-4o-2024-05-13", used as the entry name),
``release_date``, ``model_creator`` {``name``, ``slug``}, ``evaluations`` (the indexes on a 0-100
scale, single benchmarks such as ``mmlu_pro`` and ``gpqa`` as 0-1 fractions), ``pricing``
(``price_1m_blended_3_to_1``, ``price_1m_input_tokens``, ``price_1m_output_tokens``, USD per million
tokens) and the live medians ``median_output_tokens_per_second`` and
``median_time_to_first_token_seconds``. Speeds, latencies and prices of 0 mean "not measured"
and are read as missing. Values are live, so there is no publication date; ranks are computed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
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
from budgraph.leaderboards.sources.errors import SourceNotConfigured, SourceParseError
from budgraph.leaderboards.sources.values import load_json, to_decimal, to_text

# benchmark key -> (section of the model object, field)
_FIELDS = {
    "intelligence_index": ("evaluations", "artificial_analysis_intelligence_index"),
    "coding_index": ("evaluations", "artificial_analysis_coding_index"),
    "math_index": ("evaluations", "artificial_analysis_math_index"),
    "mmlu_pro": ("evaluations", "mmlu_pro"),
    "gpqa": ("evaluations", "gpqa"),
    "output_speed": (None, "median_output_tokens_per_second"),
    "time_to_first_token": (None, "median_time_to_first_token_seconds"),
    "blended_price": ("pricing", "price_1m_blended_3_to_1"),
}
# AA writes 0 where it has no measurement or no price: read as missing, not as "free" or "instant".
_MEASURED = frozenset({"output_speed", "time_to_first_token", "blended_price"})


class ArtificialAnalysis(LeaderboardSource):
    key = "artificial_analysis"
    name = "Artificial Analysis"
    homepage_url = "https://artificialanalysis.ai/leaderboards/models"
    benchmarks = (
        BenchmarkSpec("intelligence_index", "Intelligence Index", "general", "index", "0-100", True),
        BenchmarkSpec("coding_index", "Coding Index", "coding", "index", "0-100", True),
        BenchmarkSpec("math_index", "Math Index", "math", "index", "0-100", True),
        BenchmarkSpec("mmlu_pro", "MMLU-Pro", "knowledge", "accuracy", "0-1", True),
        BenchmarkSpec("gpqa", "GPQA Diamond", "knowledge", "accuracy", "0-1", True),
        BenchmarkSpec("output_speed", "Output speed (median)", "performance", "tokens/s", "unbounded", True),
        BenchmarkSpec(
            "time_to_first_token", "Time to first token (median)", "performance", "s", "unbounded", False
        ),
        BenchmarkSpec("blended_price", "Price (3:1 blended)", "cost", "USD / 1M tokens", "unbounded", False),
    )
    sample_files = ("artificial_analysis.json",)
    url = "https://artificialanalysis.ai/api/v2/data/llms/models"

    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        if not settings.artificial_analysis_api_key:
            raise SourceNotConfigured("Artificial Analysis needs an API key (artificial_analysis_api_key)")
        headers = {"x-api-key": settings.artificial_analysis_api_key, "Accept": "application/json"}
        return [SourceRequest(self.url, headers)]

    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        expect_payloads(self, payloads, 1)
        body = load_json(payloads[0], self.key)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise SourceParseError(f"{self.key}: the body has no 'data' list")
        table = ScoreTable()
        seen: set[str] = set()
        for model in body["data"]:
            if not isinstance(model, dict):
                raise SourceParseError(f"{self.key}: a model is not an object")
            slug = to_text(model.get("slug"))
            if slug is None or slug in seen:
                continue
            seen.add(slug)
            creator = model.get("model_creator")
            table.describe(
                slug,
                {
                    "name": to_text(model.get("name")),
                    "creator": to_text(creator.get("name")) if isinstance(creator, dict) else None,
                    "release_date": to_text(model.get("release_date")),
                },
            )
            for key, (section, name) in _FIELDS.items():
                table.add(slug, key, _value(model, section, name, key in _MEASURED, f"{self.key} {slug}"))
        return self.snapshot(None, table.entries(self))


def _value(
    model: Mapping[str, Any], section: str | None, name: str, measured: bool, what: str
) -> Decimal | None:
    holder = model.get(section) if section else model
    if not isinstance(holder, dict):
        return None
    value = to_decimal(holder.get(name), f"{what} {name}")
    if measured and value is not None and value <= 0:
        return None
    return value
