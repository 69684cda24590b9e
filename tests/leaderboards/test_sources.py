"""Each source's parser on its recorded sample: exact scores, ranks, scales and dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from budgraph.leaderboards.sources import (
    SOURCES,
    LeaderboardSource,
    RawEntry,
    SourceNotConfigured,
    SourceParseError,
    SourceSnapshot,
    StaticSourceSettings,
    sample_payloads,
    sample_snapshot,
)
from budgraph.leaderboards.sources.livebench import LiveBench

FETCHED_AT = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def snapshot(key: str) -> SourceSnapshot:
    return sample_snapshot(SOURCES[key], FETCHED_AT)


def entry(snap: SourceSnapshot, model: str, benchmark: str) -> RawEntry:
    found = [e for e in snap.entries if e.raw_model_name == model and e.benchmark_key == benchmark]
    assert len(found) == 1, f"{model} / {benchmark}: {found}"
    return found[0]


def models(snap: SourceSnapshot, benchmark: str) -> list[str]:
    return [e.raw_model_name for e in snap.entries if e.benchmark_key == benchmark]


def test_registry_has_the_sources_and_every_sample_parses() -> None:
    assert sorted(SOURCES) == [
        "alpaca_eval",
        "artificial_analysis",
        "bfcl",
        "livebench",
        "lmarena",
        "mteb",
        "open_llm_leaderboard",
    ]
    for key, source in SOURCES.items():
        assert source.key == key
        snap = sample_snapshot(source, FETCHED_AT)
        assert snap.entries, key
        known = {spec.key for spec in source.benchmarks}
        assert {e.benchmark_key for e in snap.entries} <= known
        pairs = [(e.raw_model_name, e.benchmark_key) for e in snap.entries]
        assert len(pairs) == len(set(pairs)), key
        assert all(e.score.is_finite() and e.rank is not None and e.rank >= 1 for e in snap.entries)


def test_open_llm_leaderboard() -> None:
    source = SOURCES["open_llm_leaderboard"]
    snap = snapshot("open_llm_leaderboard")

    assert snap.published_on == date(2024, 10, 16)  # the latest "Submission Date"
    assert source.benchmark("average").scale == "0-100"
    assert source.benchmark("average").higher_is_better is True
    assert models(snap, "average") == [
        "Qwen/Qwen2.5-72B-Instruct",
        "google/gemma-2-9b-it",
        "meta-llama/Llama-3.1-8B-Instruct",
        "mistralai/Mistral-7B-Instruct-v0.3",
    ]
    llama = entry(snap, "meta-llama/Llama-3.1-8B-Instruct", "average")
    # Evaluated in bfloat16 and float16: the better-averaging bfloat16 row is kept.
    assert llama.score == Decimal("26.753580259529")
    assert llama.rank == 3
    assert llama.extra["precision"] == "bfloat16"
    assert llama.extra["eval_name"] == "meta-llama_Llama-3.1-8B-Instruct_bfloat16"
    ifeval = entry(snap, "meta-llama/Llama-3.1-8B-Instruct", "ifeval")
    assert (ifeval.score, ifeval.rank, ifeval.extra["raw"]) == (Decimal("78.559"), 2, 0.78559)
    qwen = entry(snap, "Qwen/Qwen2.5-72B-Instruct", "mmlu_pro")
    assert (qwen.score, qwen.rank) == (Decimal("51.4"), 1)
    assert len(snap.entries) == 4 * 7


def test_open_llm_leaderboard_pages_follow_the_total() -> None:
    source = SOURCES["open_llm_leaderboard"]
    (first,) = source.requests(StaticSourceSettings(hf_token="hf_test"))
    assert first.url == (
        "https://datasets-server.huggingface.co/rows?dataset=open-llm-leaderboard%2Fcontents"
        "&config=default&split=train&offset=0&length=100"
    )
    assert first.headers["Authorization"] == "Bearer hf_test"
    page = b'{"rows": [%s], "num_rows_total": 250}' % b",".join([b'{"row": {}}'] * 100)
    (second,) = source.follow_ups(first, page)
    assert second.url.endswith("&offset=100&length=100")
    assert second.headers == first.headers
    last = second.url.replace("offset=100", "offset=200")
    tail = b'{"rows": [%s], "num_rows_total": 250}' % b",".join([b'{"row": {}}'] * 50)
    assert source.follow_ups(type(first)(last, {}), tail) == []


def test_lmarena() -> None:
    source = SOURCES["lmarena"]
    snap = snapshot("lmarena")

    spec = source.benchmark("text_overall")
    assert (spec.scale, spec.unit, spec.higher_is_better) == ("elo", "Elo", True)
    assert snap.published_on == date(2025, 9, 16)
    gpt = entry(snap, "gpt-4o-2024-05-13", "text_overall")
    assert gpt.score == Decimal("1344.7218")
    assert gpt.rank == 41
    assert gpt.extra["votes"] == 117465
    assert gpt.extra["ci_lower"] == 1341.3996
    assert gpt.extra["ci_upper"] == 1348.0441
    assert gpt.extra["ci_plus"] == 3.3223
    assert gpt.extra["organization"] == "OpenAI"
    # Ranks are LMArena's own (by upper bound), ties included.
    assert entry(snap, "claude-3-5-sonnet-20240620", "text_overall").rank == 63
    assert entry(snap, "llama-3.1-405b-instruct", "text_overall").rank == 63
    (request,) = source.requests(StaticSourceSettings())
    assert "where=%22category%22%3D%27overall%27" in request.url
    assert "config=text&split=latest" in request.url
    assert "Authorization" not in request.headers


def test_bfcl() -> None:
    source = SOURCES["bfcl"]
    snap = snapshot("bfcl")

    assert snap.published_on is None
    assert source.benchmark("overall").scale == "0-100"
    # "GPT-4o-2024-11-20 (Prompt)" (rank 9) and "(FC)" (rank 12): the best-ranked mode is kept.
    gpt = entry(snap, "GPT-4o-2024-11-20", "overall")
    assert (gpt.score, gpt.rank, gpt.extra["mode"]) == (Decimal("58.92"), 9, "Prompt")
    assert gpt.extra["cost_usd"] == 31.44
    assert models(snap, "overall") == [
        "GPT-4o-2024-11-20",
        "Claude-3-5-Sonnet-20241022",
        "Qwen2.5-72B-Instruct",
        "Llama-3.1-8B-Instruct",
    ]
    multi_turn = entry(snap, "GPT-4o-2024-11-20", "multi_turn")
    assert (multi_turn.score, multi_turn.rank) == (Decimal("44.62"), 2)
    qwen = entry(snap, "Qwen2.5-72B-Instruct", "overall")
    assert (qwen.score, qwen.rank, qwen.extra["cost_usd"]) == (Decimal("49.66"), 21, None)
    # "N/A" cells are not scores.
    assert "Llama-3.1-8B-Instruct" not in models(snap, "web_search")


def test_mteb() -> None:
    source = SOURCES["mteb"]
    snap = snapshot("mteb")

    assert snap.published_on is None
    assert (source.benchmark("retrieval").scale, source.benchmark("retrieval").category) == (
        "0-100",
        "embedding",
    )
    nv = entry(snap, "nvidia/NV-Embed-v2", "average")
    assert (nv.score, nv.rank) == (Decimal("72.31"), 1)
    assert nv.extra["column"] == "Average (56 datasets)"
    assert nv.extra["embedding_dimensions"] == 4096
    # Not a Hugging Face link: named by the link text; blank cells are missing values.
    openai = entry(snap, "text-embedding-3-large", "average")
    assert (openai.score, openai.rank, openai.extra["model_size_m"]) == (Decimal("64.59"), 3, None)
    # The link text differs from the repository name (a dimension variant): the text is kept.
    assert entry(snap, "nomic-embed-text-v1.5-512", "retrieval").score == Decimal("52.4")
    sts = entry(snap, "BAAI/bge-large-en-v1.5", "sts")
    assert (sts.score, sts.rank) == (Decimal("83.11"), 2)


def test_alpaca_eval() -> None:
    source = SOURCES["alpaca_eval"]
    snap = snapshot("alpaca_eval")

    assert snap.published_on is None
    assert source.benchmark("lc_win_rate").scale == "0-100"
    gpt = entry(snap, "gpt-4o-2024-05-13", "lc_win_rate")
    assert (gpt.score, gpt.rank) == (Decimal("57.45682883335095"), 1)
    assert gpt.extra["mode"] == "minimal"
    assert gpt.extra["avg_length"] == 1873
    qwen = entry(snap, "Qwen2-72B-Instruct", "lc_win_rate")
    assert (qwen.rank, qwen.extra["standard_error"]) == (4, 0.8956826164517345)
    assert entry(snap, "gpt4_1106_preview", "win_rate").rank == 2
    # "dev" rows are prompt ablations, not models.
    assert all(e.raw_model_name != "gpt4_1106_preview_verbose" for e in snap.entries)


def test_livebench() -> None:
    source = SOURCES["livebench"]
    snap = snapshot("livebench")

    assert snap.published_on == date(2026, 1, 8)
    assert [r.url for r in source.requests(StaticSourceSettings())] == [
        "https://livebench.ai/table_2026_01_08.csv",
        "https://livebench.ai/categories_2026_01_08.json",
    ]
    top = entry(snap, "gpt-5.1-2025-11-13-high", "global_average")
    assert (top.score, top.rank) == (Decimal("72.04"), 1)
    # Mean of the category's tasks: (76.056 + 76.087) / 2, to two decimals.
    assert entry(snap, "claude-sonnet-4-5-20250929", "coding").score == Decimal("76.07")
    # No agentic-coding task scores: no agentic-coding score, hence no global average.
    assert "gpt-4o-2024-11-20" not in models(snap, "agentic_coding")
    assert "gpt-4o-2024-11-20" not in models(snap, "global_average")
    coding = entry(snap, "gpt-4o-2024-11-20", "coding")
    assert (coding.score, coding.rank) == (Decimal("62.83"), 4)
    assert entry(snap, "gpt-5.1-2025-11-13-high", "instruction_following").score == Decimal("63.90")


def test_livebench_release_is_a_parameter() -> None:
    source = LiveBench(release="2025-04-02")
    assert source.requests(StaticSourceSettings())[0].url == "https://livebench.ai/table_2025_04_02.csv"
    with pytest.raises(ValueError, match="YYYY_MM_DD"):
        LiveBench(release="latest")


def test_artificial_analysis() -> None:
    source = SOURCES["artificial_analysis"]
    snap = snapshot("artificial_analysis")

    assert snap.published_on is None
    speed = source.benchmark("output_speed")
    assert (speed.unit, speed.scale, speed.higher_is_better) == ("tokens/s", "unbounded", True)
    assert source.benchmark("time_to_first_token").higher_is_better is False
    assert source.benchmark("blended_price").higher_is_better is False
    assert source.benchmark("mmlu_pro").scale == "0-1"
    gpt = entry(snap, "gpt-4o-2024-05-13", "intelligence_index")
    assert (gpt.score, gpt.rank) == (Decimal("29.5"), 2)
    assert gpt.extra["name"] == "GPT-4o (May '24)"
    assert gpt.extra["creator"] == "OpenAI"
    cheapest = entry(snap, "llama-3-1-instruct-8b", "blended_price")
    assert (cheapest.score, cheapest.rank) == (Decimal("0.1"), 1)
    assert entry(snap, "llama-3-1-instruct-8b", "time_to_first_token").rank == 1
    assert entry(snap, "gpt-4o-2024-05-13", "mmlu_pro").score == Decimal("0.74")
    # Zeros are "not measured", never "fastest" or "free".
    for benchmark in ("output_speed", "time_to_first_token", "blended_price"):
        assert "qwen2-5-72b-instruct" not in models(snap, benchmark)


def test_artificial_analysis_needs_its_key() -> None:
    source = SOURCES["artificial_analysis"]
    with pytest.raises(SourceNotConfigured):
        source.requests(StaticSourceSettings())
    (request,) = source.requests(StaticSourceSettings(artificial_analysis_api_key="aa-key"))
    assert request.url == "https://artificialanalysis.ai/api/v2/data/llms/models"
    assert request.headers["x-api-key"] == "aa-key"


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_a_wrong_body_is_a_parse_error(key: str) -> None:
    source: LeaderboardSource = SOURCES[key]
    wrong = [b"<html>Service moved</html>"] * len(sample_payloads(source))
    with pytest.raises(SourceParseError):
        source.parse(wrong, FETCHED_AT)
