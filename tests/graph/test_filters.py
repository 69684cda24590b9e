"""Every filter of every list, generated from the schema, run through GraphQL against PostgreSQL on
seeded data and checked against the data.

The lists come from introspection: each field of the root Query or of an object type that takes a
`filter` argument, with every field of its filter input type. Each (list, filter field, case) is
one test: it runs the filter (on every root list, or under several parents of a nested list) and
asserts no errors, `totalCount` equal to the number of rows the Python rule of the case accepts
(tests/graph/filter_cases.py), the returned rows among them (all of them when they fit one page),
and that the case tells rows apart somewhere (some rows in, some out), so it can fail. A filter
field or a filtered list the schema gains without a case here fails `test_every_filter_is_covered`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker

from budgraph import db
from budgraph.graphql.schema import schema
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from tests.conftest import GraphQLClient
from tests.graph import filter_world
from tests.graph.filter_cases import CASES, Case
from tests.graph.filter_world import World

PAGE = 100
PARENTS_PER_LIST = 40  # the parents with the most children, asked about in batches
PARENTS_PER_QUERY = 10


@dataclass(frozen=True)
class FilteredList:
    """How to read one filtered list and which rows it can hold (per parent, for nested lists)."""

    rows: Callable[[World, Any], list[Any]]
    node_type: str | None = None  # the nodes' GraphQL type (global ids); None: identity by raw name
    parent: type[Any] | None = None  # the parent's table, for nested lists
    parent_type: str | None = None
    token: str | None = None  # the API key the list needs (admin-only lists)


def _all(table: type[Any]) -> Callable[[World, Any], list[Any]]:
    return lambda world, _parent: world.rows(table)


def _children(table: type[Any], key: str) -> Callable[[World, Any], list[Any]]:
    return lambda world, parent: [row for row in world.rows(table) if getattr(row, key) == parent.id]


def _versions_serving(world: World, arch: db.ModelArchitecture) -> list[db.EngineVersion]:
    return [v for v in world.rows(db.EngineVersion) if arch.id in world.served[v.id]]


def _archs_of(world: World, version: db.EngineVersion) -> list[db.ModelArchitecture]:
    return [a for a in world.rows(db.ModelArchitecture) if a.id in world.served[version.id]]


def _models_of(world: World, version: db.EngineVersion) -> list[db.Model]:
    names = {arch.class_name for arch in _archs_of(world, version)}
    return [m for m in world.rows(db.Model) if m.architecture in names]


LISTS: dict[tuple[str, str], FilteredList] = {
    ("Query", "engines"): FilteredList(_all(db.Engine), "Engine"),
    ("Query", "engineVersions"): FilteredList(_all(db.EngineVersion), "EngineVersion"),
    ("Query", "modelArchitectures"): FilteredList(_all(db.ModelArchitecture), "ModelArchitecture"),
    ("Query", "parserRules"): FilteredList(_all(db.ParserRule), "ParserRule"),
    ("Query", "models"): FilteredList(_all(db.Model), "Model"),
    ("Query", "licenses"): FilteredList(_all(db.License), "License"),
    ("Query", "providers"): FilteredList(_all(db.Provider), "Provider"),
    ("Query", "providerModels"): FilteredList(_all(db.ProviderModel), "ProviderModel"),
    ("Query", "hardware"): FilteredList(_all(db.Hardware), "Hardware"),
    ("Query", "hardwarePrices"): FilteredList(_all(db.HardwarePrice), "HardwarePrice"),
    ("Query", "jobs"): FilteredList(_all(db.Job), "Job"),
    ("Query", "benchmarks"): FilteredList(_all(db.Benchmark), "Benchmark"),
    ("Query", "apiKeys"): FilteredList(_all(db.ApiKey), "ApiKey", token=filter_world.ADMIN_KEY),
    ("Query", "apiKeyEvents"): FilteredList(
        _all(db.ApiKeyEvent), "ApiKeyEvent", token=filter_world.ADMIN_KEY
    ),
    ("Query", "leaderboard"): FilteredList(
        lambda world, benchmark: world.current_entries[benchmark.id], None, db.Benchmark
    ),
    ("Engine", "versions"): FilteredList(
        _children(db.EngineVersion, "engine_id"), "EngineVersion", db.Engine, "Engine"
    ),
    ("EngineVersion", "architectures"): FilteredList(
        _archs_of, "ModelArchitecture", db.EngineVersion, "EngineVersion"
    ),
    ("EngineVersion", "models"): FilteredList(_models_of, "Model", db.EngineVersion, "EngineVersion"),
    ("ModelArchitecture", "engineVersions"): FilteredList(
        _versions_serving, "EngineVersion", db.ModelArchitecture, "ModelArchitecture"
    ),
    ("Provider", "models"): FilteredList(
        _children(db.ProviderModel, "provider_id"), "ProviderModel", db.Provider, "Provider"
    ),
    ("Provider", "hardwarePrices"): FilteredList(
        _children(db.HardwarePrice, "provider_id"), "HardwarePrice", db.Provider, "Provider"
    ),
    ("Hardware", "prices"): FilteredList(
        _children(db.HardwarePrice, "hardware_id"), "HardwarePrice", db.Hardware, "Hardware"
    ),
}


def filtered_lists() -> dict[tuple[str, str], tuple[str, list[str]]]:
    """(type, field) -> (filter input type, its fields), for every field that takes a `filter`."""
    found: dict[tuple[str, str], tuple[str, list[str]]] = {}
    for name, graphql_type in schema._schema.type_map.items():
        if name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            if "filter" in field.args:
                input_type = get_named_type(field.args["filter"].type)
                found[(name, field_name)] = (input_type.name, list(input_type.fields))  # type: ignore[union-attr]
    return found


SCHEMA_LISTS = filtered_lists()
GENERATED = [
    pytest.param(where, input_type, field, index, id=f"{where[0]}.{where[1]}:{field}#{index}")
    for where, (input_type, fields) in sorted(SCHEMA_LISTS.items())
    for field in fields
    for index in range(len(CASES.get(input_type, {}).get(field, [])) or 1)
]


def test_every_filter_is_covered() -> None:
    schema_fields = {(t, f) for t, fields in SCHEMA_LISTS.values() for f in fields}
    missing_lists = sorted(set(SCHEMA_LISTS) - set(LISTS))
    missing_cases = sorted(f"{t}.{f}" for t, f in schema_fields if not CASES.get(t, {}).get(f))
    stale = sorted(f"{t}.{f}" for t, fields in CASES.items() for f in fields if (t, f) not in schema_fields)
    assert (missing_lists, missing_cases, stale) == ([], [], [])


@pytest.fixture(scope="module")
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """One transaction for the module: seeded once, read by every case, rolled back at the end."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        sessions = async_sessionmaker(
            bind=connection,
            class_=RequestSession,
            expire_on_commit=False,
            autoflush=False,
            join_transaction_mode="create_savepoint",
        )
        await filter_world.build(sessions)
        yield connection
        await transaction.rollback()


@pytest.fixture(scope="module")
async def world(connection: AsyncConnection) -> World:
    async with RequestSession(bind=connection, join_transaction_mode="create_savepoint") as session:
        return await filter_world.load(session)


def _identity(spec: FilteredList, row: Any) -> str:
    if spec.node_type is None:
        return str(row.raw_model_name)
    return to_global_id(spec.node_type, row.id)


def _selection(spec: FilteredList) -> str:
    return "id" if spec.node_type is not None else "rawModelName"


def _parents(spec: FilteredList, world: World) -> list[Any]:
    assert spec.parent is not None
    with_children = [p for p in world.rows(spec.parent) if spec.rows(world, p)]
    with_children.sort(key=lambda p: (-len(spec.rows(world, p)), p.id))
    return with_children[:PARENTS_PER_LIST]


async def _run(
    client: GraphQLClient,
    where: tuple[str, str],
    input_type: str,
    spec: FilteredList,
    value: Any,
    world: World,
) -> list[tuple[Any, int, list[str]]]:
    """(parent, totalCount, identities) for each parent (one None parent for a root list)."""
    owner, field = where
    page = f"totalCount nodes {{ {_selection(spec)} }}"
    if owner == "Query" and spec.parent is None:
        query = f"query ($f: {input_type}) {{ list: {field}(filter: $f, first: {PAGE}) {{ {page} }} }}"
        body = await client.data(query, {"f": value}, token=spec.token)
        return [(None, body["list"]["totalCount"], [_node_identity(n) for n in body["list"]["nodes"]])]
    parents = _parents(spec, world)
    if owner == "Query":  # a root list per parent given by argument (the leaderboard of a benchmark)
        results = []
        for parent in parents:
            query = (
                f"query ($f: {input_type}, $key: String!) {{ list: {field}(benchmark: $key, filter: $f,"
                f" first: {PAGE}) {{ {page} }} }}"
            )
            body = await client.data(query, {"f": value, "key": parent.key})
            results.append(
                (parent, body["list"]["totalCount"], [_node_identity(n) for n in body["list"]["nodes"]])
            )
        return results
    query = (
        f"query ($ids: [ID!]!, $f: {input_type}) {{ nodes(ids: $ids) {{ ... on {owner} {{ id"
        f" list: {field}(filter: $f, first: {PAGE}) {{ {page} }} }} }} }}"
    )
    results = []
    for start in range(0, len(parents), PARENTS_PER_QUERY):
        batch = parents[start : start + PARENTS_PER_QUERY]
        ids = [to_global_id(spec.parent_type or owner, parent.id) for parent in batch]
        body = await client.data(query, {"ids": ids, "f": value})
        results += [
            (parent, node["list"]["totalCount"], [_node_identity(n) for n in node["list"]["nodes"]])
            for parent, node in zip(batch, body["nodes"], strict=True)
        ]
    return results


def _node_identity(node: dict[str, Any]) -> str:
    return str(node.get("id") or node.get("rawModelName"))


@pytest.mark.parametrize(("where", "input_type", "field", "index"), GENERATED)
async def test_filter(
    client: GraphQLClient, world: World, where: tuple[str, str], input_type: str, field: str, index: int
) -> None:
    spec = LISTS[where]
    cases = CASES.get(input_type, {}).get(field)
    assert cases, f"no case for {input_type}.{field}: add one to tests/graph/filter_cases.py"
    case: Case = cases[index]
    value = case.resolved(world)

    results = await _run(client, where, input_type, spec, {field: value}, world)

    kept = seen = 0
    for parent, total, returned in results:
        candidates = spec.rows(world, parent)
        expected = [_identity(spec, row) for row in candidates if case.holds(row, world)]
        assert total == len(expected), (parent, value)
        assert not Counter(returned) - Counter(expected), (parent, value)
        if len(expected) <= PAGE:
            assert Counter(returned) == Counter(expected), (parent, value)
        kept, seen = kept + len(expected), seen + len(candidates)
    assert 0 < kept < seen, f"{input_type}.{field} = {value!r} keeps all rows or none of {where}: a weak case"
