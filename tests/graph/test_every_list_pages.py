"""Every list of the graph, root and nested, in every order it offers, pages by keyset cursors: paging
forward and backward gives exactly the list as one page shows it, with exact page info.

The cases come from the schema (every field returning a connection), so a new list or a new order is
tested without anyone writing a case; the data is the seed plus rows with NULLs and ties in every
sort column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLObjectType,
    get_named_type,
    is_leaf_type,
)

from budgraph import db
from budgraph.graphql.schema import schema
from budgraph.kit.db import RequestSession
from budgraph.kit.versions import version_key
from budgraph.leaderboards.repository import restand
from budgraph.seeds.service import seed
from tests import factories
from tests.conftest import GraphQLClient

WINDOW = 40  # items compared per list and order
PAGE = 9  # items per page while walking (fewer for short lists: at least three pages)
SHORTEST = 5  # every list has at least this many items in the data
BENCHMARK = "arena:test"
# Arguments some lists need to list anything.
ARGUMENTS = {
    "leaderboard": f'benchmark: "{BENCHMARK}"',
    "compatibleEngineVersions": 'architecture: "TieForCausalLM"',
}
PAGE_FIELDS = (
    "totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { %s } }"
)


@dataclass(frozen=True)
class ListCase:
    owner: str  # "Query" or the parent type
    field: str
    order_type: str | None
    order: dict[str, str] | None

    @property
    def name(self) -> str:
        order = f"{self.order['field']}-{self.order['direction']}" if self.order else "default"
        return f"{self.owner}.{self.field}[{order}]"


def _connections(owner: GraphQLObjectType) -> list[tuple[str, GraphQLField]]:
    return [
        (name, field)
        for name, field in owner.fields.items()
        if get_named_type(field.type).name.endswith("Connection") and "first" in field.args
    ]


def _orders(field: GraphQLField) -> tuple[str | None, list[dict[str, str] | None]]:
    argument = field.args.get("orderBy")
    if argument is None:
        return None, [None]
    order_type = get_named_type(argument.type)
    assert isinstance(order_type, GraphQLInputObjectType)
    fields = get_named_type(order_type.fields["field"].type)
    assert isinstance(fields, GraphQLEnumType)
    orders: list[dict[str, str] | None] = [None]
    orders += [{"field": value, "direction": d} for value in fields.values for d in ("ASC", "DESC")]
    return order_type.name, orders


def _cases() -> list[ListCase]:
    graph = schema._schema
    cases = []
    owners = [graph.query_type] + [
        t
        for t in graph.type_map.values()
        if isinstance(t, GraphQLObjectType) and "Node" in {i.name for i in t.interfaces}
    ]
    for owner in owners:
        assert owner is not None
        for name, field in _connections(owner):
            order_type, orders = _orders(field)
            cases += [ListCase(owner.name, name, order_type, order) for order in orders]
    return cases


CASES = _cases()


def _identity(type_name: str) -> str:
    """What tells one item of a list from another: its id, else its scalar fields and linked ids."""
    node = schema._schema.type_map[type_name]
    assert isinstance(node, GraphQLObjectType)
    if "id" in node.fields:
        return "id"
    parts = []
    for name, field in node.fields.items():
        named = get_named_type(field.type)
        if field.args:
            continue
        if is_leaf_type(named):
            parts.append(name)
        elif isinstance(named, GraphQLObjectType) and "id" in named.fields:
            parts.append(f"{name} {{ id }}")
    return " ".join(parts)


def _node_type(owner: str, field: str) -> str:
    owner_type = schema._schema.type_map[owner]
    assert isinstance(owner_type, GraphQLObjectType)
    connection = get_named_type(owner_type.fields[field].type)
    assert isinstance(connection, GraphQLObjectType)
    return get_named_type(connection.fields["nodes"].type).name


def _list_query(case: ListCase) -> str:
    owner = schema._schema.type_map[case.owner]
    assert isinstance(owner, GraphQLObjectType)
    required = [
        name
        for name, argument in owner.fields[case.field].args.items()
        if isinstance(argument.type, GraphQLNonNull) and argument.default_value is None
    ]
    arguments = [ARGUMENTS[case.field]] if case.field in ARGUMENTS else []
    assert all(name in " ".join(arguments) for name in required), f"{case.name} needs {required}"
    arguments += ["first: $first", "after: $after", "last: $last", "before: $before"]
    variables = "$first: Int, $after: String, $last: Int, $before: String"
    if case.order_type is not None:
        arguments.append("orderBy: $order")
        variables += f", ${'order'}: {case.order_type}"
    selection = f"{case.field}({', '.join(arguments)}) {{ {PAGE_FIELDS % _identity(_node_type(case.owner, case.field))} }}"
    if case.owner == "Query":
        return f"query ({variables}) {{ {selection} }}"
    return f"query ({variables}, $parent: ID!) {{ node(id: $parent) {{ ... on {case.owner} {{ {selection} }} }} }}"


def _root_list_of(type_name: str) -> str:
    """The root field listing objects of ``type_name``."""
    query = schema._schema.query_type
    assert query is not None
    return next(
        name
        for name, field in _connections(query)
        if get_named_type(field.type).name == f"{type_name}Connection"
    )


async def _richest_parent(client: GraphQLClient, case: ListCase) -> str:
    """The id of the parent with the longest ``case.field`` list."""
    root = _root_list_of(case.owner)
    query = (
        f"query ($after: String) {{ {root}(first: 100, after: $after) {{"
        f" pageInfo {{ hasNextPage endCursor }} nodes {{ id {case.field}(first: 0) {{ totalCount }} }} }} }}"
    )
    parents: list[dict[str, Any]] = []
    after = None
    while True:
        data = (await client.data(query, {"after": after}))[root]
        parents += data["nodes"]
        after = data["pageInfo"]["endCursor"]
        if not data["pageInfo"]["hasNextPage"]:
            break
    assert parents, f"no {case.owner} to page {case.field} of"
    best = max(parents, key=lambda parent: parent[case.field]["totalCount"])
    assert best[case.field]["totalCount"] >= SHORTEST, f"no {case.owner} has {SHORTEST} {case.field}"
    return str(best["id"])


async def _given_rows_with_nulls_and_ties(session: RequestSession) -> None:
    await seed(session)
    await session.flush()
    apache = await factories.architecture(session, "TieForCausalLM", family=None)
    vllm = await factories.engine(session, "tie-engine")
    tie_versions = []
    for index in range(14):
        # equal release dates and NULLs; every version serves the same architecture
        released = None if index % 3 == 0 else date(2025, 1, 1 + index % 2)
        version = await factories.version(session, vllm, f"2.{index}.0", release_date=released)
        await factories.edge(session, version, apache)
        tie_versions.append(version)
    lic = await session.get(db.License, 1)
    models = []
    for index in range(14):
        models.append(
            await factories.model(
                session,
                f"org/tie-{index:02d}",
                architecture="LlamaForCausalLM" if index % 2 else "TieForCausalLM",
                parameter_count=None if index % 4 == 0 else 7_000_000_000 * (1 + index % 2),
                context_length=None if index % 5 == 0 else 4096,
                license_id=lic.id if lic is not None and index % 3 else None,
            )
        )
    owner = models[1]
    jobs = []
    for index in range(12):
        job = db.Job(
            kind="extract",
            model_id=owner.id,
            target=owner.uri,
            dedupe_key=f"tie:{index}",
            requested_by="test",
        )
        session.add(job)
        jobs.append(job)
    await session.flush()
    for index in range(12):
        session.add(
            db.ModelFile(
                model_id=owner.id,
                revision="main",
                path=f"shard-{index % 5}.safetensors" if index < 5 else f"z/{index}.bin",
                size=index,
                sha256=f"{index:064x}",
                object_key=f"k{index}",
            )
        )
        # equal status, path and scanner: only the id tells them apart
        session.add(
            db.ScanResult(
                model_id=owner.id,
                job_id=jobs[-1].id,
                scanner="clamav",
                path="same.bin" if index % 2 else f"{index}.bin",
                status=["CLEAN", "FINDING", "ERROR"][index % 3],
                detail=f"result {index}",
            )
        )
    source = db.LeaderboardSource(key="arena", name="Arena", validators={})
    session.add(source)
    await session.flush()
    snapshot = db.LeaderboardSnapshot(source_id=source.id, fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    benchmark = db.Benchmark(key=BENCHMARK, source_key="arena", name="test", higher_is_better=True)
    others = [db.Benchmark(key=f"arena:other-{i}", source_key="arena", name=f"other {i}") for i in range(5)]
    session.add_all([snapshot, benchmark, *others])
    await session.flush()
    for index in range(14):
        # equal scores and equal names
        session.add(
            db.LeaderboardEntry(
                benchmark_id=benchmark.id,
                snapshot_id=snapshot.id,
                model_id=models[index].id if index % 2 else None,
                raw_model_name=f"name-{index % 6}" if index % 2 else f"unmatched-{index % 10}",
                score=Decimal(1200 + 10 * (index % 3)),
                source="arena",
            )
        )
    await restand(session, [snapshot.id])
    price_hardware = await factories.hardware(session, "tie-gpu")
    provider = await factories.provider(session, "tie-cloud", kind="compute_cloud")
    for index in range(12):
        await factories.hardware_price(
            session,
            price_hardware,
            provider,
            on_demand_per_hour="2.5",
            region=f"r{index % 3}",
            instance_type=f"i{index}",
            as_of="2025-01-01" if index % 2 else "2025-02-01",
            spot_per_hour=None if index % 3 else Decimal("1.25"),
        )
    for index in range(12):
        await factories.provider_model(
            session,
            provider,
            f"tie-model-{index}",
            input_per_million=None if index % 3 == 0 else Decimal("0.5"),
            max_input_tokens=None if index % 4 == 0 else 8192,
        )
    await _given_releases_and_quantization(session, vllm, tie_versions)
    session.add(
        db.EngineVersion(
            engine_id=vllm.id,
            version="3.0.0",
            version_key=version_key("3.0.0"),
            device_architecture="ROCM",
            container_image="x",
        )
    )
    await session.commit()


async def _given_releases_and_quantization(
    session: RequestSession, engine: db.Engine, versions: list[db.EngineVersion]
) -> None:
    """Upstream releases of the tie engine with six architectures and six quantization methods each
    (equal minimum capabilities and NULLs), packaged by six of its CUDA versions."""
    from budgraph.releases import service
    from budgraph.releases.facts import ArchitectureFact, QuantizationFact, ReleaseFacts, SourceRef

    names = ["TieForCausalLM", *(f"Tie{i}ForCausalLM" for i in range(5))]
    releases = []
    for index in range(6):
        number = f"2.{index}.0"
        ref = SourceRef(f"tie-{number}.tar.gz", number, "tie/registry.py", "MODELS")
        facts = ReleaseFacts(
            engine=engine.slug,
            version=number,
            artifact=f"tie-{number}.tar.gz",
            architectures=tuple(
                ArchitectureFact(name, ("CHAT",), "generate", None, None, False, None, ref) for name in names
            ),
            dropped=(),
            quantization=tuple(
                QuantizationFact(f"method-{m}", "CUDA", None if m % 2 else "8.0", ("bfloat16",), ref)
                for m in range(6)
            ),
        )
        releases.append(
            (await service.record_release(session, facts, source_url="https://example.com/tie")).release
        )
    for version in versions[:6]:
        await service.apply_release(session, version, releases[0])


async def _page(
    client: GraphQLClient, query: str, variables: dict[str, Any], case: ListCase
) -> dict[str, Any]:
    data = await client.data(query, variables)
    found: dict[str, Any] = data[case.field] if case.owner == "Query" else data["node"][case.field]
    return found


async def test_every_list_pages_both_ways_exactly_once(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given the seed, plus rows with NULLs and ties in every sort column, and API keys (whose lists
    # an admin reads)
    await _given_rows_with_nulls_and_ties(session)
    from budgraph.auth.service import create_key
    from budgraph.db.enums import ApiKeyScope

    client.token = await create_key(session, "pager-admin", ApiKeyScope.ADMIN)
    for n in range(SHORTEST):
        await create_key(session, f"pager-{n}", ApiKeyScope.READ if n % 2 else ApiKeyScope.WRITE)
    await session.commit()
    # when each list is paged in each of its orders, then each walk gives it exactly (see _walk)
    parents: dict[tuple[str, str], str] = {}
    for case in CASES:
        if case.owner != "Query" and (case.owner, case.field) not in parents:
            parents[case.owner, case.field] = await _richest_parent(client, case)
        await _walk(client, case, parents.get((case.owner, case.field)))


async def _walk(client: GraphQLClient, case: ListCase, parent: str | None) -> None:
    query = _list_query(case)
    base: dict[str, Any] = {"order": case.order} if case.order_type is not None else {}
    if parent is not None:
        base["parent"] = parent

    # the list as one page shows it
    whole = await _page(client, query, {**base, "first": WINDOW}, case)
    total = whole["totalCount"]
    items = [edge["node"] for edge in whole["edges"]]
    assert total >= SHORTEST, case.name
    assert len(items) == min(total, WINDOW), case.name
    size = max(2, min(PAGE, len(items) // 3))

    # when walking forward PAGE at a time
    walked: list[Any] = []
    after = None
    while len(walked) < len(items):
        page = await _page(client, query, {**base, "first": size, "after": after}, case)
        walked += [edge["node"] for edge in page["edges"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None), case.name
        assert page["pageInfo"]["hasNextPage"] is (len(walked) < total), case.name
        assert page["totalCount"] == total
        after = page["pageInfo"]["endCursor"]
    # and backward from the last item of the window
    backward: list[Any] = []
    before = whole["edges"][-1]["cursor"]
    while True:
        page = await _page(client, query, {**base, "last": size, "before": before}, case)
        backward = [edge["node"] for edge in page["edges"]] + backward
        assert page["pageInfo"]["hasNextPage"] is True, case.name
        assert page["pageInfo"]["hasPreviousPage"] is (len(backward) < len(items) - 1), case.name
        before = page["pageInfo"]["startCursor"]
        if not page["pageInfo"]["hasPreviousPage"]:
            break

    # then both walks are the list, each item once, in order
    assert walked[: len(items)] == items, case.name
    assert backward == items[:-1], case.name
    cursors = [edge["cursor"] for edge in whole["edges"]]
    assert len(set(cursors)) == len(cursors), case.name


def test_every_list_is_covered() -> None:
    # root lists and the nested lists of every node type, each in every order it offers
    fields = {(case.owner, case.field) for case in CASES}
    expected = {
        ("Query", "engines"),
        ("Engine", "versions"),
        ("Model", "scanResults"),
        ("Provider", "hardwarePrices"),
    }
    assert expected <= fields
    assert len(CASES) > 100
