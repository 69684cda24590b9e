"""Property-based: filters combined at random still return exactly the rows that satisfy them all.

For every filtered list of the schema, hypothesis draws combinations of its filter fields, each
with one of its cases (tests/graph/filter_cases.py), and the answer must hold exactly the rows
that satisfy every chosen case ("all given conditions must hold"): its `totalCount`, and its
returned rows among them. Single fields are checked by test_filters.py; this checks how they
compose.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import GraphQLClient
from tests.graph.filter_cases import CASES, Case
from tests.graph.filter_world import World
from tests.graph.test_filters import LISTS, PAGE, SCHEMA_LISTS, _identity, _run
from tests.graph.test_filters import connection as connection
from tests.graph.test_filters import world as world_fixture

world = world_fixture

COMBINATIONS = 12
ROOT_LISTS = sorted(where for where in SCHEMA_LISTS if LISTS[where].parent is None)


def _combinations(input_type: str, fields: list[str]) -> list[dict[str, int]]:
    """Random {filter field: case index} choices of two or more fields, drawn by hypothesis."""
    drawn: list[dict[str, int]] = []
    usable = [f for f in fields if CASES.get(input_type, {}).get(f)]
    if len(usable) < 2:
        return drawn
    choice = st.dictionaries(
        st.sampled_from(usable), st.integers(min_value=0, max_value=10), min_size=2, max_size=4
    ).map(lambda picked: {f: i % len(CASES[input_type][f]) for f, i in picked.items()})

    @settings(
        max_examples=COMBINATIONS, database=None, derandomize=True, suppress_health_check=list(HealthCheck)
    )
    @given(choice)
    def collect(picked: dict[str, int]) -> None:
        drawn.append(picked)

    collect()
    return drawn


@pytest.mark.parametrize("where", ROOT_LISTS, ids=[f"{owner}.{field}" for owner, field in ROOT_LISTS])
async def test_combined_filters_keep_exactly_the_rows_that_satisfy_all_of_them(
    client: GraphQLClient, world: World, where: tuple[str, str]
) -> None:
    spec = LISTS[where]
    input_type, fields = SCHEMA_LISTS[where]
    for picked in _combinations(input_type, fields):
        cases: dict[str, Case] = {f: CASES[input_type][f][i] for f, i in picked.items()}
        value: dict[str, Any] = {f: case.resolved(world) for f, case in cases.items()}
        response = await client.post(
            f"query ($f: {input_type}) {{ list: {where[1]}(filter: $f, first: 1) {{ totalCount }} }}",
            {"f": value},
            token=spec.token,
        )
        body = response.json()
        if body.get("errors"):
            # Some combinations are contradictions the API refuses (min above max): typed, never a 500.
            assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}, (value, body)
            continue
        [(_, total, returned)] = await _run(client, where, input_type, spec, value, world)
        candidates = spec.rows(world, None)
        expected = [
            _identity(spec, row)
            for row in candidates
            if all(case.holds(row, world) for case in cases.values())
        ]
        assert total == len(expected), value
        assert not Counter(returned) - Counter(expected), value
        if len(expected) <= PAGE:
            assert Counter(returned) == Counter(expected), value
