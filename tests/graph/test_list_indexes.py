"""Every root list, in its default order and in every order it offers, reads its page from an index.

The cases come from the schema (as in test_every_list_pages.py), so a new list or order without an
index fails here. Each page statement the API runs is EXPLAINed with sorts (and sequential and bitmap
scans) discouraged: the tables are small here, where a sort is cheap and PostgreSQL may rightly
choose one, but a plan that still sorts has no index in the list's order, and would sort the whole
table at scale.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from budgraph.auth.service import create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import RequestSession
from tests.conftest import GraphQLClient
from tests.graph.test_every_list_pages import CASES, ListCase, _given_rows_with_nulls_and_ties, _list_query

# Lists whose order cannot come from one index, and why their sort stays bounded.
SORTED_BY_DESIGN = {
    # the versions of one architecture, through its edges: sorted per architecture, not per table
    "compatibleEngineVersions",
    # names counted across the current snapshots: the order is by an aggregate
    "unmatchedLeaderboardNames",
}
SORTS = {"Sort", "Incremental Sort"}


def _sorts(plan: dict[str, Any]) -> Iterator[str]:
    if plan["Node Type"] in SORTS:
        yield f"{plan['Node Type']} by {', '.join(plan.get('Sort Key', []))}"
    for child in plan.get("Plans", []):
        if child.get("Parent Relationship") not in ("InitPlan", "SubPlan"):
            yield from _sorts(child)


async def _page_statements(
    client: GraphQLClient, engine: AsyncEngine, case: ListCase
) -> list[tuple[str, Any]]:
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "keyset_0" in statement:
            captured.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", capture)
    try:
        variables: dict[str, Any] = {"first": 5}
        if case.order is not None:
            variables["order"] = case.order
        await client.data(_list_query(case), variables)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", capture)
    return captured


async def test_every_root_list_reads_its_page_from_an_index(
    session: RequestSession, client: GraphQLClient, engine: AsyncEngine, connection: AsyncConnection
) -> None:
    # given the seed plus rows with NULLs and ties, and an admin to read the key lists
    await _given_rows_with_nulls_and_ties(session)
    client.token = await create_key(session, "index-admin", ApiKeyScope.ADMIN)
    await session.commit()
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_incremental_sort"):
        await connection.execute(text(f"SET LOCAL {setting} = off"))
    await connection.execute(text("ANALYZE"))
    # when each root list's page is read in each of its orders
    unindexed = []
    for case in CASES:
        if case.owner != "Query" or case.field in SORTED_BY_DESIGN:
            continue
        statements = await _page_statements(client, engine, case)
        assert statements, f"{case.name}: no page statement ran"
        for statement, parameters in statements:
            found = await connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
            plan = json.loads(found.scalar_one()) if isinstance(found, str) else found.scalar_one()
            unindexed += [f"{case.name}: {sort}" for sort in _sorts(plan[0]["Plan"])]
    # then none of them sorts
    assert unindexed == []
