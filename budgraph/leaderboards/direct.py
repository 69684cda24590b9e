"""Leaderboards compiled into one statement (see budgraph/graphql/compiled.py): the first page of
`leaderboard(benchmark:)`, each entry with its model and benchmark.

The statement is one for every benchmark (its key is a bind parameter): entries are listed by
their stored position, which orders them as their scores do in either direction, and only the
page's worth of each listed snapshot is read (its first rows in the index's order), so a page costs
the same on a board of any size; `totalCount` is the snapshots' stored size. A filter, a page
after a cursor, and an unknown benchmark (the executor's typed error) go to the executor, and so
does `percentile` (Python rounds it, half-even on the double: SQL's round differs).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from sqlalchemy import Text, bindparam, select
from sqlalchemy.sql import FromClause

from budgraph import db
from budgraph.graphql.compiled import Expression, TableShape, ToList, ToOne, first_page, timestamp_json
from budgraph.graphql.compiled_roots import CompiledRoot, RootQuery
from budgraph.graphql.compiled_selection import NotCompiled
from budgraph.leaderboards import repository
from budgraph.settings import Settings


def _key() -> Any:
    return bindparam("benchmark", type_=Text)


def _leaderboard(arguments: Mapping[str, Any], settings: Settings) -> RootQuery:
    if arguments.get("filter") is not None:
        raise NotCompiled("a filtered leaderboard")
    # the page and one more (whether a next page exists), from each snapshot the board lists
    candidates = first_page(arguments).size + 1
    return RootQuery(
        partial(repository.board_statement, _key(), candidates),
        {"benchmark": arguments["benchmark"]},
        candidates,
        total=lambda: repository.board_total_statement(_key()),
        known=lambda: repository.benchmark_known_statement(_key()),
    )


def _fetched_at(entry: FromClause) -> Expression:
    """When the entry's snapshot was read (``RankedEntry.fetched_at``)."""
    snapshot = db.LeaderboardSnapshot.__table__.alias("entry_snapshot")
    fetched = select(snapshot.c.fetched_at).where(snapshot.c.id == entry.c.snapshot_id).scalar_subquery()
    return timestamp_json(fetched)


LEADERBOARD = CompiledRoot("LeaderboardEntry", listed=True, query=_leaderboard)
BENCHMARK_SHAPE = TableShape("Benchmark", db.Benchmark)
LEADERBOARD_ENTRY_SHAPE = TableShape(
    "LeaderboardEntry",
    db.LeaderboardEntry,
    renamed={"source_key": "source"},
    computed={"fetched_at": _fetched_at},
    refused=frozenset({"percentile"}),
    relations={
        "model": ToOne("Model", lambda entry, model: model.c.id == entry.c.model_id),
        "benchmark": ToOne("Benchmark", lambda entry, benchmark: benchmark.c.id == entry.c.benchmark_id),
    },
)


def _scores(model: FromClause) -> tuple[FromClause, Expression]:
    """``Model.scores``: the model's best current entry per benchmark, by benchmark key (compared
    as Python compares the keys the executor sorts: by code point, PostgreSQL's "C" collation)."""
    scores = repository.best_scores_of_model(model.c.id).correlate(model).lateral("score")
    return scores, scores.c.benchmark_key.collate("C")


SCORES_OF_MODEL = ToList("LeaderboardEntry", _scores)
