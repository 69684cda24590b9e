"""Leaderboards: current snapshots ranked in each benchmark's direction, percentiles, comparisons by
mean percentile (never by raw score), model scores, unmatched names, aliases, refresh jobs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus as ArqStatus
from sqlalchemy import func, insert, select

from budgraph import db
from budgraph.jobs.queue import ArqJobQueue, arq_job_id
from budgraph.kit.db import RequestSession, StatementCounter
from budgraph.kit.ids import from_global_id, to_global_id
from budgraph.leaderboards.repository import restand
from budgraph.leaderboards.schedule import manual_key
from tests import factories
from tests.conftest import GraphQLClient

OLD = datetime(2026, 1, 1, tzinfo=UTC)
CURRENT = datetime(2026, 1, 8, tzinfo=UTC)
ARENA = "lmarena:text_overall"
GPQA = "artificial_analysis:gpqa"
TTFT = "artificial_analysis:time_to_first_token"

LEADERBOARD = """
query ($benchmark: String!, $filter: LeaderboardEntryFilter, $first: Int, $after: String) {
  leaderboard(benchmark: $benchmark, filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { rawModelName score position percentile model { uri } }
  }
}
"""
ENTRY_DETAILS = """
query {
  leaderboard(benchmark: "lmarena:text_overall", first: 1) {
    nodes {
      rank matchMethod publishedOn fetchedAt sourceKey extra
      benchmark { key name category unit scale higherIsBetter source { key name } }
    }
  }
}
"""
SCORES = """
query ($uri: String!, $benchmarks: [String!]) {
  model(uri: $uri) { scores(benchmarks: $benchmarks) { benchmark { key } score percentile position rawModelName } }
}
"""
COMPARE = """
query ($ids: [ID!]!, $benchmarks: [String!]) {
  compareModels(ids: $ids, benchmarks: $benchmarks) {
    models { uri }
    rows { benchmark { key } cells { score percentile position rank publishedOn sourceKey } }
    summary { model { uri } meanPercentile benchmarkCount }
  }
}
"""
COMPARISON_FIELDS = """
{
  comparison: __type(name: "ModelComparison") { fields { name } }
  summary: __type(name: "ComparisonSummary") { fields { name } }
}
"""
UNMATCHED = """
query ($source: String) {
  unmatchedLeaderboardNames(source: $source) {
    totalCount
    nodes { rawModelName normalisedName entryCount sourceKeys }
  }
}
"""
SOURCES = """
{
  leaderboardSources {
    key name enabled lastStatus lastError lastSuccessStartedAt nextDueAt benchmarks { key entryCount }
  }
}
"""
BENCHMARKS = """
query ($filter: BenchmarkFilter) {
  benchmarks(filter: $filter) { totalCount nodes { key scale higherIsBetter entryCount } }
}
"""
BENCHMARK = """
query ($key: String!) { benchmark(key: $key) { key entryCount source { key homepageUrl } } }
"""
ADD_ALIAS = """
mutation ($alias: String!, $model: ID!) {
  addModelAlias(alias: $alias, modelId: $model) { alias model { uri } linkedEntries }
}
"""
REMOVE_ALIAS = """
mutation ($alias: String!) { removeModelAlias(alias: $alias) { alias model { uri } relinkedEntries } }
"""
REGISTER = """
mutation ($uri: String!) { registerModel(input: {uri: $uri}) { model { uri } } }
"""
ALIASES = "{ models { nodes { uri leaderboardAliases } } }"
REFRESH = """
mutation ($sources: [String!], $force: Boolean) {
  refreshLeaderboards(sources: $sources, force: $force) { id kind status target requestedBy }
}
"""


@dataclass
class Board:
    alpha: db.Model
    beta: db.Model
    gamma: db.Model


def _id(model: db.Model) -> str:
    return to_global_id("Model", model.id)


async def _source(session: RequestSession, key: str, **state: object) -> db.LeaderboardSource:
    row = db.LeaderboardSource(key=key, name=key, validators={}, **state)
    session.add(row)
    await session.flush()
    return row


async def _benchmark(
    session: RequestSession, key: str, scale: str, higher_is_better: bool, unit: str
) -> db.Benchmark:
    source_key, _, name = key.partition(":")
    row = db.Benchmark(
        key=key,
        source_key=source_key,
        name=name,
        category="general",
        unit=unit,
        scale=scale,
        higher_is_better=higher_is_better,
    )
    session.add(row)
    await session.flush()
    return row


async def _snapshot(
    session: RequestSession,
    source: db.LeaderboardSource,
    fetched_at: datetime,
    entries: list[tuple[db.Benchmark, str, str, db.Model | None, str | None]],
) -> None:
    """A snapshot with entries (benchmark, raw name, score, linked model, match method)."""
    published = fetched_at.date()
    snapshot = db.LeaderboardSnapshot(
        source_id=source.id, fetched_at=fetched_at, published_on=published, entry_count=len(entries)
    )
    session.add(snapshot)
    await session.flush()
    session.add_all(
        db.LeaderboardEntry(
            benchmark_id=benchmark.id,
            snapshot_id=snapshot.id,
            model_id=model.id if model else None,
            match_method=method,
            raw_model_name=name,
            score=Decimal(score),
            rank=index + 1,
            source=source.key,
            published_on=published,
            extra={"votes": 1000 - index},
        )
        for index, (benchmark, name, score, model, method) in enumerate(entries)
    )
    await restand(session, [snapshot.id])


async def _board(session: RequestSession) -> Board:
    """Three models; LMArena with an old and a current snapshot; Artificial Analysis with two
    benchmarks of other scales, one where lower is better. Raw names match as the matcher would."""
    alpha = await factories.model(session, "org/alpha-7b")
    beta = await factories.model(session, "org/beta-13b")
    gamma = await factories.model(session, "org/gamma-70b")
    arena_source = await _source(
        session, "lmarena", last_status="succeeded", last_started_at=CURRENT, last_success_started_at=CURRENT
    )
    aa_source = await _source(
        session, "artificial_analysis", enabled=False, last_status="failed", last_error="HTTP 503"
    )
    arena = await _benchmark(session, ARENA, "elo", True, "Elo")
    gpqa = await _benchmark(session, GPQA, "0-1", True, "accuracy")
    ttft = await _benchmark(session, TTFT, "unbounded", False, "s")
    n, e = "normalised", "exact"
    await _snapshot(
        session,
        arena_source,
        OLD,
        [(arena, "alpha-7b", "1400", alpha, n), (arena, "mystery-model", "1100", None, None)],
    )
    await _snapshot(
        session,
        arena_source,
        CURRENT,
        [
            (arena, "org/beta-13b", "1350", beta, e),
            (arena, "alpha-7b", "1310", alpha, n),
            (arena, "mystery-model", "1300", None, None),
            (arena, "gamma-70b", "1280", gamma, n),
            (arena, "alpha-7b-chat", "1250", alpha, n),
            (arena, "zeta-1b", "1200", None, None),
        ],
    )
    await _snapshot(
        session,
        aa_source,
        CURRENT,
        [
            (gpqa, "Beta 13B", "0.7", beta, n),
            (gpqa, "Alpha 7B", "0.5", alpha, n),
            (gpqa, "Gamma 70B", "0.5", gamma, n),
            (gpqa, "mystery-model", "0.3", None, None),
            (ttft, "Beta 13B", "0.9", beta, n),
            (ttft, "Alpha 7B", "0.4", alpha, n),
            (ttft, "mystery-model", "0.2", None, None),
        ],
    )
    await session.commit()
    return Board(alpha, beta, gamma)


def _entry(name: str, score: str, position: int, percentile: float, uri: str | None) -> dict[str, object]:
    return {
        "rawModelName": name,
        "score": score,
        "position": position,
        "percentile": percentile,
        "model": {"uri": uri} if uri else None,
    }


async def test_leaderboard_ranks_the_current_snapshot_highest_first(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given an old snapshot (alpha at 1400) and a current one
    await _board(session)

    # when
    data = await client.data(LEADERBOARD, {"benchmark": ARENA})

    # then only the current snapshot is ranked, best first, percentiles over its six entries
    assert data["leaderboard"]["totalCount"] == 6
    assert data["leaderboard"]["nodes"] == [
        _entry("org/beta-13b", "1350", 1, 100.0, "org/beta-13b"),
        _entry("alpha-7b", "1310", 2, 80.0, "org/alpha-7b"),
        _entry("mystery-model", "1300", 3, 60.0, None),
        _entry("gamma-70b", "1280", 4, 40.0, "org/gamma-70b"),
        _entry("alpha-7b-chat", "1250", 5, 20.0, "org/alpha-7b"),
        _entry("zeta-1b", "1200", 6, 0.0, None),
    ]
    # and history is kept
    assert await session.scalar(select(func.count()).select_from(db.LeaderboardSnapshot)) == 3
    assert await session.scalar(select(func.count()).select_from(db.LeaderboardEntry)) == 15


async def test_leaderboard_ranks_lower_first_when_lower_is_better_and_ties_by_name(
    session: RequestSession, client: GraphQLClient
) -> None:
    await _board(session)

    ttft = await client.data(LEADERBOARD, {"benchmark": TTFT})
    gpqa = await client.data(LEADERBOARD, {"benchmark": GPQA})

    assert ttft["leaderboard"]["nodes"] == [
        _entry("mystery-model", "0.2", 1, 100.0, None),
        _entry("Alpha 7B", "0.4", 2, 50.0, "org/alpha-7b"),
        _entry("Beta 13B", "0.9", 3, 0.0, "org/beta-13b"),
    ]
    # a tie shares the better position and percentile, and is ordered by name
    assert gpqa["leaderboard"]["nodes"] == [
        _entry("Beta 13B", "0.7", 1, 100.0, "org/beta-13b"),
        _entry("Alpha 7B", "0.5", 2, 66.67, "org/alpha-7b"),
        _entry("Gamma 70B", "0.5", 2, 66.67, "org/gamma-70b"),
        _entry("mystery-model", "0.3", 4, 0.0, None),
    ]


async def test_leaderboard_filters_keep_snapshot_standing_and_page(
    session: RequestSession, client: GraphQLClient
) -> None:
    board = await _board(session)

    search = await client.data(LEADERBOARD, {"benchmark": ARENA, "filter": {"search": "ALPHA"}})
    matched = await client.data(LEADERBOARD, {"benchmark": ARENA, "filter": {"matchedOnly": True}})
    of_gamma = await client.data(
        LEADERBOARD, {"benchmark": ARENA, "filter": {"modelIds": [_id(board.gamma)]}}
    )
    first = await client.data(LEADERBOARD, {"benchmark": ARENA, "first": 4})
    after = first["leaderboard"]["pageInfo"]["endCursor"]
    rest = await client.data(LEADERBOARD, {"benchmark": ARENA, "first": 4, "after": after})

    assert search["leaderboard"]["nodes"] == [
        _entry("alpha-7b", "1310", 2, 80.0, "org/alpha-7b"),
        _entry("alpha-7b-chat", "1250", 5, 20.0, "org/alpha-7b"),
    ]
    assert [n["rawModelName"] for n in matched["leaderboard"]["nodes"]] == [
        "org/beta-13b",
        "alpha-7b",
        "gamma-70b",
        "alpha-7b-chat",
    ]
    assert of_gamma["leaderboard"]["nodes"] == [_entry("gamma-70b", "1280", 4, 40.0, "org/gamma-70b")]
    assert first["leaderboard"]["pageInfo"]["hasNextPage"] is True
    assert [n["position"] for n in rest["leaderboard"]["nodes"]] == [5, 6]
    assert rest["leaderboard"]["pageInfo"]["hasNextPage"] is False


async def test_entry_details(session: RequestSession, client: GraphQLClient) -> None:
    await _board(session)

    data = await client.data(ENTRY_DETAILS)

    assert data["leaderboard"]["nodes"] == [
        {
            "rank": 1,
            "matchMethod": "EXACT",
            "publishedOn": "2026-01-08",
            "fetchedAt": "2026-01-08T00:00:00+00:00",
            "sourceKey": "lmarena",
            "extra": {"votes": 1000},
            "benchmark": {
                "key": ARENA,
                "name": "text_overall",
                "category": "general",
                "unit": "Elo",
                "scale": "elo",
                "higherIsBetter": True,
                "source": {"key": "lmarena", "name": "LMArena (Chatbot Arena)"},
            },
        }
    ]


async def test_model_scores_one_best_current_entry_per_benchmark(
    session: RequestSession, client: GraphQLClient
) -> None:
    await _board(session)

    alpha = await client.data(SCORES, {"uri": "org/alpha-7b"})
    gamma = await client.data(SCORES, {"uri": "org/gamma-70b", "benchmarks": [ARENA, TTFT, "nope:nope"]})

    # alpha-7b (1310) beats alpha-7b-chat (1250); the old snapshot's 1400 is history
    assert alpha["model"]["scores"] == [
        {
            "benchmark": {"key": GPQA},
            "score": "0.5",
            "percentile": 66.67,
            "position": 2,
            "rawModelName": "Alpha 7B",
        },
        {
            "benchmark": {"key": TTFT},
            "score": "0.4",
            "percentile": 50.0,
            "position": 2,
            "rawModelName": "Alpha 7B",
        },
        {
            "benchmark": {"key": ARENA},
            "score": "1310",
            "percentile": 80.0,
            "position": 2,
            "rawModelName": "alpha-7b",
        },
    ]
    assert gamma["model"]["scores"] == [
        {
            "benchmark": {"key": ARENA},
            "score": "1280",
            "percentile": 40.0,
            "position": 4,
            "rawModelName": "gamma-70b",
        },
    ]


def _cell(score: str, percentile: float, position: int, rank: int, source: str) -> dict[str, object]:
    return {
        "score": score,
        "percentile": percentile,
        "position": position,
        "rank": rank,
        "publishedOn": "2026-01-08",
        "sourceKey": source,
    }


async def test_compare_models_by_mean_percentile(session: RequestSession, client: GraphQLClient) -> None:
    board = await _board(session)

    data = await client.data(COMPARE, {"ids": [_id(board.gamma), _id(board.alpha)]})

    assert data["compareModels"] == {
        "models": [{"uri": "org/gamma-70b"}, {"uri": "org/alpha-7b"}],
        "rows": [
            {
                "benchmark": {"key": GPQA},
                "cells": [
                    _cell("0.5", 66.67, 2, 3, "artificial_analysis"),
                    _cell("0.5", 66.67, 2, 2, "artificial_analysis"),
                ],
            },
            {"benchmark": {"key": TTFT}, "cells": [None, _cell("0.4", 50.0, 2, 6, "artificial_analysis")]},
            {
                "benchmark": {"key": ARENA},
                "cells": [_cell("1280", 40.0, 4, 4, "lmarena"), _cell("1310", 80.0, 2, 2, "lmarena")],
            },
        ],
        # (66.667 + 40) / 2 and (66.667 + 50 + 80) / 3: percentiles, not raw scores (Elo + fraction + seconds)
        "summary": [
            {"model": {"uri": "org/gamma-70b"}, "meanPercentile": 53.33, "benchmarkCount": 2},
            {"model": {"uri": "org/alpha-7b"}, "meanPercentile": 65.56, "benchmarkCount": 3},
        ],
    }


async def test_compare_models_on_chosen_benchmarks(session: RequestSession, client: GraphQLClient) -> None:
    board = await _board(session)

    variables = {"ids": [_id(board.alpha), _id(board.gamma), _id(board.beta)], "benchmarks": [ARENA, TTFT]}
    data = await client.data(COMPARE, variables)

    assert [row["benchmark"]["key"] for row in data["compareModels"]["rows"]] == [ARENA, TTFT]
    assert data["compareModels"]["rows"][1]["cells"][1] is None
    assert data["compareModels"]["summary"] == [
        {"model": {"uri": "org/alpha-7b"}, "meanPercentile": 65.0, "benchmarkCount": 2},
        {"model": {"uri": "org/gamma-70b"}, "meanPercentile": 40.0, "benchmarkCount": 1},
        {"model": {"uri": "org/beta-13b"}, "meanPercentile": 50.0, "benchmarkCount": 2},
    ]


async def test_comparison_exposes_no_average_of_raw_scores(client: GraphQLClient) -> None:
    data = await client.data(COMPARISON_FIELDS)

    assert sorted(f["name"] for f in data["comparison"]["fields"]) == ["models", "rows", "summary"]
    assert sorted(f["name"] for f in data["summary"]["fields"]) == [
        "benchmarkCount",
        "meanPercentile",
        "model",
    ]


async def test_unmatched_names_of_current_snapshots(session: RequestSession, client: GraphQLClient) -> None:
    await _board(session)

    everywhere = await client.data(UNMATCHED)
    arena = await client.data(UNMATCHED, {"source": "lmarena"})

    # the old snapshot's mystery-model entry is not counted
    assert everywhere["unmatchedLeaderboardNames"] == {
        "totalCount": 2,
        "nodes": [
            {
                "rawModelName": "mystery-model",
                "normalisedName": "mystery-model",
                "entryCount": 3,
                "sourceKeys": ["artificial_analysis", "lmarena"],
            },
            {
                "rawModelName": "zeta-1b",
                "normalisedName": "zeta-1b",
                "entryCount": 1,
                "sourceKeys": ["lmarena"],
            },
        ],
    }
    assert [n["entryCount"] for n in arena["unmatchedLeaderboardNames"]["nodes"]] == [1, 1]


async def test_sources_merge_code_and_refresh_state(session: RequestSession, client: GraphQLClient) -> None:
    await _board(session)

    data = await client.data(SOURCES)

    by_key = {source["key"]: source for source in data["leaderboardSources"]}
    assert list(by_key) == [
        "alpaca_eval",
        "artificial_analysis",
        "bfcl",
        "livebench",
        "lmarena",
        "mteb",
        "open_llm_leaderboard",
    ]
    assert by_key["lmarena"] == {
        "key": "lmarena",
        "name": "LMArena (Chatbot Arena)",
        "enabled": True,
        "lastStatus": "SUCCEEDED",
        "lastError": None,
        "lastSuccessStartedAt": "2026-01-08T00:00:00+00:00",
        "nextDueAt": "2026-01-15T00:00:00+00:00",
        "benchmarks": [{"key": ARENA, "entryCount": 6}],
    }
    assert by_key["artificial_analysis"] | {"benchmarks": None} == {
        "key": "artificial_analysis",
        "name": "Artificial Analysis",
        "enabled": False,
        "lastStatus": "FAILED",
        "lastError": "HTTP 503",
        "lastSuccessStartedAt": None,
        "nextDueAt": None,
        "benchmarks": None,
    }
    assert [b["key"] for b in by_key["artificial_analysis"]["benchmarks"]] == [GPQA, TTFT]
    assert by_key["bfcl"] == {
        "key": "bfcl",
        "name": "Berkeley Function Calling Leaderboard",
        "enabled": True,
        "lastStatus": None,
        "lastError": None,
        "lastSuccessStartedAt": None,
        "nextDueAt": None,
        "benchmarks": [],
    }


async def test_benchmarks_list_and_lookup(session: RequestSession, client: GraphQLClient) -> None:
    await _board(session)

    everything = await client.data(BENCHMARKS)
    of_source = await client.data(
        BENCHMARKS, {"filter": {"sources": ["artificial_analysis"], "search": "TIME"}}
    )
    one = await client.data(BENCHMARK, {"key": ARENA})
    none = await client.data(BENCHMARK, {"key": "lmarena:nope"})

    assert everything["benchmarks"] == {
        "totalCount": 3,
        "nodes": [
            {"key": GPQA, "scale": "0-1", "higherIsBetter": True, "entryCount": 4},
            {"key": TTFT, "scale": "unbounded", "higherIsBetter": False, "entryCount": 3},
            {"key": ARENA, "scale": "elo", "higherIsBetter": True, "entryCount": 6},
        ],
    }
    assert [n["key"] for n in of_source["benchmarks"]["nodes"]] == [TTFT]
    assert one["benchmark"] == {
        "key": ARENA,
        "entryCount": 6,
        "source": {"key": "lmarena", "homepageUrl": "https://lmarena.ai/leaderboard"},
    }
    assert none == {"benchmark": None}


async def test_add_model_alias_links_existing_entries_and_keeps_the_alias_as_typed(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    board = await _board(session)

    variables = {"alias": "Mystery Model", "model": _id(board.gamma)}
    data = await client.data(ADD_ALIAS, variables, token=writer_token)

    # three current entries and one of the old snapshot now point to gamma
    assert data["addModelAlias"] == {
        "alias": "Mystery Model",
        "model": {"uri": "org/gamma-70b"},
        "linkedEntries": 4,
    }
    arena = await client.data(LEADERBOARD, {"benchmark": ARENA, "filter": {"search": "mystery"}})
    assert arena["leaderboard"]["nodes"] == [_entry("mystery-model", "1300", 3, 60.0, "org/gamma-70b")]
    unmatched = await client.data(UNMATCHED)
    assert [n["rawModelName"] for n in unmatched["unmatchedLeaderboardNames"]["nodes"]] == ["zeta-1b"]
    # gamma's best arena entry is now mystery-model (1300 beats gamma-70b's 1280)
    scores = await client.data(SCORES, {"uri": "org/gamma-70b", "benchmarks": [ARENA]})
    assert [s["rawModelName"] for s in scores["model"]["scores"]] == ["mystery-model"]

    # the same alias for the same model, in any casing or punctuation, gets the same answer
    for again in ("Mystery Model", "mystery_MODEL"):
        repeat = await client.data(ADD_ALIAS, {**variables, "alias": again}, token=writer_token)
        assert repeat == data
    assert await session.scalar(select(func.count()).select_from(db.ModelAlias)) == 1
    listed = {m["uri"]: m["leaderboardAliases"] for m in (await client.data(ALIASES))["models"]["nodes"]}
    assert listed == {"org/alpha-7b": [], "org/beta-13b": [], "org/gamma-70b": ["Mystery Model"]}


async def test_an_alias_names_one_dated_snapshot_and_never_its_siblings(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    delta = await factories.model(session, "org/delta")
    source = await _source(session, "lmarena")
    arena = await _benchmark(session, ARENA, "elo", True, "Elo")
    names = [
        "gpt-4o-2024-05-13",
        "GPT 4o 2024 05 13",
        "gpt-4o-2024-11-20",
        "gpt-4o",
        "gpt-4o-2024-05-13 (FC)",
    ]
    await _snapshot(session, source, CURRENT, [(arena, name, "1300", None, None) for name in names])
    await session.commit()

    data = await client.data(
        ADD_ALIAS, {"alias": "gpt-4o-2024-05-13", "model": _id(delta)}, token=writer_token
    )

    assert data["addModelAlias"] == {
        "alias": "gpt-4o-2024-05-13",
        "model": {"uri": "org/delta"},
        "linkedEntries": 2,
    }
    unmatched = (await client.data(UNMATCHED))["unmatchedLeaderboardNames"]["nodes"]
    assert sorted(n["rawModelName"] for n in unmatched) == [
        "gpt-4o",
        "gpt-4o-2024-05-13 (FC)",
        "gpt-4o-2024-11-20",
    ]
    stored = (await session.scalars(select(db.ModelAlias.alias))).all()
    assert stored == ["gpt-4o-2024-05-13"]


async def test_remove_model_alias_links_again_what_it_linked(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    board = await _board(session)
    await client.data(ADD_ALIAS, {"alias": "Mystery Model", "model": _id(board.gamma)}, token=writer_token)
    await client.data(ADD_ALIAS, {"alias": "zeta-1b", "model": _id(board.beta)}, token=writer_token)

    removed = await client.data(REMOVE_ALIAS, {"alias": "mystery model"}, token=writer_token)

    assert removed["removeModelAlias"] == {
        "alias": "Mystery Model",
        "model": {"uri": "org/gamma-70b"},
        "relinkedEntries": 4,
    }
    unmatched = await client.data(UNMATCHED)
    assert [n["rawModelName"] for n in unmatched["unmatchedLeaderboardNames"]["nodes"]] == ["mystery-model"]
    listed = {m["uri"]: m["leaderboardAliases"] for m in (await client.data(ALIASES))["models"]["nodes"]}
    assert listed == {"org/alpha-7b": [], "org/beta-13b": ["zeta-1b"], "org/gamma-70b": []}
    # the other alias still links its name
    arena = await client.data(LEADERBOARD, {"benchmark": ARENA, "filter": {"search": "zeta"}})
    assert arena["leaderboard"]["nodes"][0]["model"] == {"uri": "org/beta-13b"}
    # it is gone: removing it again is NOT_FOUND, and it can now name another model
    assert await client.error_codes(REMOVE_ALIAS, {"alias": "Mystery Model"}, token=writer_token) == [
        "NOT_FOUND"
    ]
    again = await client.data(
        ADD_ALIAS, {"alias": "mystery-model", "model": _id(board.alpha)}, token=writer_token
    )
    assert again["addModelAlias"]["model"] == {"uri": "org/alpha-7b"}


async def test_add_model_alias_errors(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    board = await _board(session)
    await client.data(ADD_ALIAS, {"alias": "Mystery Model", "model": _id(board.gamma)}, token=writer_token)

    conflict = await client.execute(
        ADD_ALIAS, {"alias": "MYSTERY_model", "model": _id(board.alpha)}, token=writer_token
    )
    assert [(e["message"], e["extensions"]) for e in conflict["errors"]] == [
        (
            "the alias 'MYSTERY_model' is already taken: 'Mystery Model' names model org/gamma-70b",
            {"code": "CONFLICT", "field": "alias"},
        )
    ]
    uri = await client.execute(
        ADD_ALIAS, {"alias": "ORG/Beta-13B", "model": _id(board.gamma)}, token=writer_token
    )
    assert [(e["message"], e["extensions"]["code"]) for e in uri["errors"]] == [
        ("the alias 'ORG/Beta-13B' is the uri of another model (org/beta-13b)", "CONFLICT")
    ]
    missing = {"alias": "x", "model": to_global_id("Model", 999_999)}
    assert await client.error_codes(ADD_ALIAS, missing, token=writer_token) == ["NOT_FOUND"]
    for empty in ("  ", "--", "x" * 201):
        assert await client.error_codes(
            ADD_ALIAS, {"alias": empty, "model": _id(board.alpha)}, token=writer_token
        ) == ["BAD_USER_INPUT"]
    assert await client.error_codes(REMOVE_ALIAS, {"alias": "()"}, token=writer_token) == ["BAD_USER_INPUT"]
    wrong_kind = {"alias": "x", "model": to_global_id("Benchmark", 1)}
    assert await client.error_codes(ADD_ALIAS, wrong_kind, token=writer_token) == ["INVALID_ID"]
    assert await client.error_codes(ADD_ALIAS, {"alias": "x", "model": _id(board.alpha)}) == [
        "UNAUTHENTICATED"
    ]
    assert await client.error_codes(REMOVE_ALIAS, {"alias": "Mystery Model"}) == ["UNAUTHENTICATED"]
    # nothing of that changed the one alias there is
    rows = (await session.execute(select(db.ModelAlias.alias, db.ModelAlias.model_id))).all()
    assert [tuple(row) for row in rows] == [("Mystery Model", board.gamma.id)]


async def test_registering_a_model_links_the_names_current_snapshots_already_have(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    await _board(session)
    source = (
        await session.scalars(select(db.LeaderboardSource).where(db.LeaderboardSource.key == "lmarena"))
    ).one()
    arena = (await session.scalars(select(db.Benchmark).where(db.Benchmark.key == ARENA))).one()
    await _snapshot(
        session,
        source,
        datetime(2026, 1, 9, tzinfo=UTC),
        [(arena, "newco/Omega-2B", "1500", None, None), (arena, "zeta-1b", "1200", None, None)],
    )
    await session.commit()
    before = (await client.data(UNMATCHED))["unmatchedLeaderboardNames"]["nodes"]
    assert sorted(n["rawModelName"] for n in before) == ["mystery-model", "newco/Omega-2B", "zeta-1b"]

    await client.data(
        REGISTER, {"uri": "newco/omega-2b"}, token=writer_token
    )  # the exact name, another casing
    await client.data(REGISTER, {"uri": "budtest/Zeta-1B"}, token=writer_token)  # by its normalised name

    after = (await client.data(UNMATCHED))["unmatchedLeaderboardNames"]["nodes"]
    assert [n["rawModelName"] for n in after] == ["mystery-model"]
    scores = await client.data(SCORES, {"uri": "newco/omega-2b", "benchmarks": [ARENA]})
    assert [(s["rawModelName"], s["position"]) for s in scores["model"]["scores"]] == [("newco/Omega-2B", 1)]
    methods = dict(
        (
            await session.execute(
                select(db.LeaderboardEntry.raw_model_name, db.LeaderboardEntry.match_method)
            )
        ).all()
    )
    assert (methods["newco/Omega-2B"], methods["zeta-1b"]) == ("exact", "normalised")


async def _arq_status(queue: ArqJobQueue, arq_id: str) -> ArqStatus:
    return await ArqJob(arq_id, await queue.pool(), _queue_name=queue.queue_name).status()


async def test_refresh_leaderboards_queues_one_job(
    session: RequestSession, client: GraphQLClient, writer_token: str, queue: ArqJobQueue
) -> None:
    variables = {"sources": ["mteb", "lmarena", "mteb"]}
    job = (await client.data(REFRESH, variables, token=writer_token))["refreshLeaderboards"]

    assert job | {"id": None} == {
        "id": None,
        "kind": "LEADERBOARD_REFRESH",
        "status": "QUEUED",
        "target": "lmarena,mteb",
        "requestedBy": "test-writer",
    }
    _, job_pk = from_global_id(job["id"])
    row = await session.get(db.Job, job_pk)
    assert row is not None
    assert row.params == {"sources": ["lmarena", "mteb"], "force": False}
    arq_id = arq_job_id(manual_key(["lmarena", "mteb"], False), job_pk, queue.job_id_prefix)
    assert await _arq_status(queue, arq_id) == ArqStatus.queued

    # the same request while queued returns the same job and enqueues nothing
    again = await client.data(REFRESH, {"sources": ["lmarena", "mteb"]}, token=writer_token)
    assert again["refreshLeaderboards"]["id"] == job["id"]
    assert await (await queue.pool()).zcard(queue.queue_name) == 1

    # forcing, or all sources, is another request
    forced = await client.data(REFRESH, {"sources": ["lmarena", "mteb"], "force": True}, token=writer_token)
    everything = await client.data(REFRESH, {}, token=writer_token)
    assert forced["refreshLeaderboards"]["id"] != job["id"]
    assert everything["refreshLeaderboards"]["target"] == "all sources"
    assert await (await queue.pool()).zcard(queue.queue_name) == 3


async def test_refresh_leaderboards_errors(
    client: GraphQLClient, writer_token: str, queue: ArqJobQueue
) -> None:
    body = await client.execute(REFRESH, {"sources": ["lmarena", "nope", "also-nope"]}, token=writer_token)

    assert [e["extensions"] for e in body["errors"]] == [{"code": "BAD_USER_INPUT", "field": "sources"}]
    assert body["errors"][0]["message"].startswith("unknown leaderboard sources: also-nope, nope (known: ")
    assert await client.error_codes(REFRESH, {"sources": []}, token=writer_token) == ["BAD_USER_INPUT"]
    assert await client.error_codes(REFRESH, {}) == ["UNAUTHENTICATED"]
    assert await (await queue.pool()).zcard(queue.queue_name) == 0


async def test_query_errors(session: RequestSession, client: GraphQLClient) -> None:
    board = await _board(session)
    ids = [_id(board.alpha), _id(board.beta)]

    assert await client.error_codes(LEADERBOARD, {"benchmark": "lmarena:nope"}) == ["NOT_FOUND"]
    assert await client.error_codes(LEADERBOARD, {"benchmark": ARENA, "first": 101}) == ["PAGE_SIZE_EXCEEDED"]
    bad_model = {"benchmark": ARENA, "filter": {"modelIds": ["nope"]}}
    assert await client.error_codes(LEADERBOARD, bad_model) == ["INVALID_ID"]
    assert await client.error_codes(COMPARE, {"ids": ids[:1]}) == ["BAD_USER_INPUT"]
    assert await client.error_codes(COMPARE, {"ids": [to_global_id("Model", i) for i in range(1, 22)]}) == [
        "BAD_USER_INPUT"
    ]
    assert await client.error_codes(COMPARE, {"ids": [ids[0], ids[0]]}) == ["BAD_USER_INPUT"]
    assert await client.error_codes(COMPARE, {"ids": [*ids, to_global_id("Model", 999_999)]}) == ["NOT_FOUND"]
    assert await client.error_codes(COMPARE, {"ids": ids, "benchmarks": [ARENA, "x:y"]}) == ["NOT_FOUND"]


STATEMENTS = """
{
  leaderboard(benchmark: "lmarena:text_overall", first: 100) {
    totalCount
    nodes {
      score percentile
      model { uri scores { percentile benchmark { key entryCount source { key benchmarks { key } } } } }
      benchmark { key source { name } }
    }
  }
  unmatchedLeaderboardNames(first: 100) { totalCount nodes { rawModelName entryCount } }
  leaderboardSources { key benchmarks { key entryCount source { key } } }
  benchmarks(first: 100) { nodes { key entryCount source { key } } }
}
"""
COMPARE_STATEMENTS = """
query ($ids: [ID!]!) {
  compareModels(ids: $ids) {
    models { uri scores { score benchmark { key } } }
    rows { benchmark { key entryCount source { key } } cells { percentile } }
    summary { meanPercentile model { uri } }
  }
}
"""


async def _grow(
    session: RequestSession, snapshots: dict[str, int], benchmarks: list[int], start: int, stop: int
) -> list[str]:
    """Models ``start..stop``, each scored (and one unmatched name) on every benchmark."""
    model_ids = (
        await session.scalars(
            insert(db.Model).returning(db.Model.id),
            [{"uri": f"org/model-{i}", "source_kind": "huggingface"} for i in range(start, stop)],
        )
    ).all()
    rows = [
        {
            "benchmark_id": benchmark,
            "snapshot_id": snapshots["lmarena"] if index == 0 else snapshots["artificial_analysis"],
            "model_id": linked,
            "raw_model_name": name,
            "score": Decimal(1000 + i),
            "source": "lmarena" if index == 0 else "artificial_analysis",
        }
        for index, benchmark in enumerate(benchmarks)
        for i, model_id in zip(range(start, stop), model_ids, strict=True)
        for name, linked in ((f"model-{i}", model_id), (f"unknown-{i}", None))
    ]
    await session.execute(insert(db.LeaderboardEntry), rows)
    await restand(session, list(snapshots.values()))
    await session.commit()
    return [to_global_id("Model", model_id) for model_id in model_ids]


async def _count(client: GraphQLClient, statements: StatementCounter, ids: list[str], entries: int) -> int:
    """Statements of the lists, then of a comparison of ``ids``, each query on its own (a loader
    shared by both would hit its cache for some keys, and the count would depend on the overlap)."""
    statements.reset()
    data = await client.data(STATEMENTS)
    assert data["leaderboard"]["totalCount"] == entries
    assert len(data["unmatchedLeaderboardNames"]["nodes"]) == entries // 2
    lists = statements.count
    statements.reset()
    data = await client.data(COMPARE_STATEMENTS, {"ids": ids})
    assert len(data["compareModels"]["summary"]) == len(ids)
    assert len(data["compareModels"]["rows"]) == 3
    return lists + statements.count


async def test_statement_count_is_the_same_for_5_and_50_models(
    session: RequestSession, client_with: Any, statements: StatementCounter
) -> None:
    # A stress query, far above the cost limit that guards the API: lifted for this test.
    client = await client_with(max_query_cost=1_000_000)
    arena_source = await _source(session, "lmarena")
    aa_source = await _source(session, "artificial_analysis")
    benchmarks = [
        await _benchmark(session, ARENA, "elo", True, "Elo"),
        await _benchmark(session, GPQA, "0-1", True, "accuracy"),
        await _benchmark(session, TTFT, "unbounded", False, "s"),
    ]
    snapshots = {}
    for source in (arena_source, aa_source):
        snapshot = db.LeaderboardSnapshot(
            source_id=source.id, fetched_at=CURRENT, published_on=date(2026, 1, 8)
        )
        session.add(snapshot)
        await session.flush()
        snapshots[source.key] = snapshot.id
    ids = await _grow(session, snapshots, [b.id for b in benchmarks], 0, 5)

    with_5 = await _count(client, statements, ids, 10)
    ids += await _grow(session, snapshots, [b.id for b in benchmarks], 5, 50)
    with_50 = await _count(client, statements, ids[:20], 100)

    assert with_5 == with_50
    # one statement per list, count or loader batch (and a savepoint pair per request), whatever the rows
    assert with_5 <= 25, statements.statements


async def test_deleting_a_model_links_again_the_names_it_tied_with_another(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    ours = await factories.model(session, "org/twin-7b")
    theirs = await factories.model(session, "other/twin-7b")
    source = await _source(session, "lmarena")
    arena = await _benchmark(session, ARENA, "elo", True, "Elo")
    await _snapshot(session, source, CURRENT, [(arena, "twin-7b", "1300", None, None)])
    await session.commit()
    # two models share the name: the matcher does not guess
    names = (await client.data(UNMATCHED))["unmatchedLeaderboardNames"]["nodes"]
    assert [n["rawModelName"] for n in names] == ["twin-7b"]

    delete = "mutation ($id: ID!) { deleteModel(id: $id) { deletedId } }"
    await client.data(delete, {"id": _id(theirs)}, token=writer_token)

    assert (await client.data(UNMATCHED))["unmatchedLeaderboardNames"]["nodes"] == []
    scores = await client.data(SCORES, {"uri": "org/twin-7b", "benchmarks": [ARENA]})
    assert [s["rawModelName"] for s in scores["model"]["scores"]] == ["twin-7b"]
    del ours
