"""Limits computed before execution: realistic queries go through, abusive documents are refused.

Given the default limits (settings), when the queries runtimes and dashboards really send are run,
then each answers and reports its cost; when documents built to exhaust the server are sent
(nested connections that refer back to each other, a thousand aliases, megabyte documents,
thousands of overlapping fields, introspection loops), then each is refused before it runs with a
typed error that carries the computed value and the limit, and nothing is executed.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import get_introspection_query

from budgraph.db.enums import ApiKeyScope
from budgraph.settings import Settings
from tests.conftest import GraphQLClient

RUNTIME_SLICE = """
query Slice($model: String, $arch: String) {
  compatibleEngineVersions(model: $model, architecture: $arch, deviceArchitecture: CUDA) {
    nodes { engineVersion { version engine { slug } } containerImage toolCallParser reasoningParser
            supportsLora supportsPipelineParallelism }
  }
}
"""
LATEST = '{ latestEngineVersion(engine: "vllm", deviceArchitecture: CUDA) { version containerImage } }'
CHANGES = "query ($since: BigInt!) { changes(since: $since, first: 100) { registryVersion hasMore endCursor changes { registryVersion entityKind entityId operation changedFields actor } } }"
DASHBOARD = """
{ models(first: 50) { totalCount pageInfo { hasNextPage endCursor }
    nodes { uri license { key name } architecture { className
      engineVersions(first: 3) { nodes { version containerImage engine { slug } } } } } } }
"""
LEADERBOARD = """
query ($benchmark: String!) { leaderboard(benchmark: $benchmark, first: 100) {
  totalCount nodes { score rank position rawModelName model { uri license { key } } } } }
"""
MODEL_TWO_LEVELS = """
query ($uri: String!) { model(uri: $uri) {
  uri parameterCount contextLength license { key name kind commercialUse }
  architecture { className family engineVersions(first: 20) { nodes { version engine { slug name } } } }
  files(first: 50) { nodes { path size sha256 } }
  jobs(first: 10) { nodes { kind status } }
  scanResults(first: 50) { nodes { scanner path status } }
  scores { score benchmark { key name } }
  factSources { field source }
} }
"""
DEEP_ENGINES = """
{ engines(first: 20) { edges { node { slug versions(first: 20) { edges { node { version
    architectures(first: 20) { edges { node { className } } } } } } } } } }
"""
REALISTIC: list[tuple[str, str, dict[str, Any], int]] = [
    # name, document, variables, its cost (hand-computed: see budgraph/graphql/cost.py)
    ("runtime slice", RUNTIME_SLICE, {"arch": "LlamaForCausalLM"}, 1 + 20 * (1 + 1 + 1)),
    ("latest version", LATEST, {}, 1),
    ("changes since", CHANGES, {"since": 0}, 1 + 100),
    ("dashboard page", DASHBOARD, {}, 1 + 1 + 50 * (1 + 1 + 1 + 1 + 3 * 2)),
    ("leaderboard top 100", LEADERBOARD, {"benchmark": "lmarena-text"}, 1 + 100 * (1 + 1 + 1)),
    (
        "a model two levels deep",
        MODEL_TWO_LEVELS,
        {"uri": "org/x"},
        1 + 1 + 1 + 1 + 20 * 2 + 1 + 50 + 1 + 10 + 1 + 50 + 20 * 2 + 20,
    ),
    ("edges three levels deep", DEEP_ENGINES, {}, 1 + 20 * (1 + 1 + 1 + 20 * (1 + 1 + 1 + 20 * 2))),
    (
        "the playground's introspection",
        get_introspection_query(
            descriptions=True,
            specified_by_url=True,
            directive_is_repeatable=True,
            schema_description=True,
            input_value_deprecation=True,
        ),
        {},
        1,
    ),
]


@pytest.mark.parametrize(("name", "document", "variables", "cost"), REALISTIC, ids=[r[0] for r in REALISTIC])
async def test_realistic_queries_go_through_and_report_their_cost(
    client: GraphQLClient, name: str, document: str, variables: dict[str, Any], cost: int
) -> None:
    body = await client.execute(document, variables)
    codes = [error["extensions"]["code"] for error in body.get("errors", [])]
    assert "QUERY_LIMIT_EXCEEDED" not in codes, body
    assert body["extensions"]["cost"] == {"requested": cost, "maximum": 25_000}


def _nested(levels: int) -> str:
    """Versions, their architectures, those architectures' versions, ... ``levels`` connections deep."""
    inner = "version"
    for level in range(levels):
        field = "architectures" if level % 2 else "engineVersions"
        inner = f"{field} {{ nodes {{ {'className ' if level % 2 else ''}{inner} }} }}"
    return "{ " + inner + " }"


ATTACKS: list[tuple[str, str, str, Any]] = [
    ("seven nested connections", _nested(7), "cost", None),
    (
        "three nested pages of 100",
        "{ engines(first: 100) { nodes { versions(first: 100) { nodes { architectures(first: 100) { nodes { className } } } } } } }",
        "cost",
        1 + 100 * (1 + 1 + 100 * (1 + 1 + 100)),
    ),
    (
        "1,000 aliases of a list",
        "{ " + " ".join(f"a{i}: engines {{ totalCount }}" for i in range(1000)) + " }",
        "tokens",
        None,
    ),
    ("31 aliases", "{ " + " ".join(f"a{i}: registryVersion" for i in range(31)) + " }", "aliases", 31),
    ("3,000 overlapping fields", "{ " + "registryVersion " * 3000 + "}", "documentBytes", None),
    ("401 fields", "{ " + "registryVersion " * 401 + "}", "fields", 401),
    (
        "depth 18",
        "{ engines { nodes { " + "versions { nodes { engine { " * 5 + "slug" + " } } }" * 5 + " } } }",
        "depth",
        18,
    ),
    ("a 1.3 MB document", "{ registryVersion }" + " " * 1_300_000, "body", None),
    ("4,001 tokens", "{ " + "a " * 4001 + "}", "tokens", None),
]


@pytest.mark.parametrize(("name", "document", "limit", "value"), ATTACKS, ids=[a[0] for a in ATTACKS])
async def test_abusive_documents_are_refused_before_they_run(
    client: GraphQLClient, name: str, document: str, limit: str, value: Any
) -> None:
    response = await client.http.post("/graphql", json={"query": document})
    body = response.json()
    if limit == "body":
        assert response.status_code == 413
        assert body["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
        return
    assert response.status_code == 200, body  # application/json: a request error is a 200
    [error] = body["errors"]
    assert "data" not in body
    extensions = error["extensions"]
    assert extensions["code"] == "QUERY_LIMIT_EXCEEDED"
    assert extensions["limit"] == limit
    assert extensions["value"] > extensions["maximum"]
    if value is not None:
        assert extensions["value"] == value
    if limit == "cost":
        assert body["extensions"]["cost"]["requested"] == extensions["value"]


async def test_introspection_that_loops_is_refused(client: GraphQLClient) -> None:
    looping = "{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }"
    assert set(await client.error_codes(looping)) == {"GRAPHQL_VALIDATION_FAILED"}


async def test_a_refused_mutation_changes_nothing(client: GraphQLClient, writer_token: str) -> None:
    aliases = " ".join(f'e{i}: createEngine(input: {{slug: "e{i}", name: "E"}}) {{ id }}' for i in range(31))
    assert await client.error_codes(f"mutation {{ {aliases} }}", token=writer_token) == [
        "QUERY_LIMIT_EXCEEDED"
    ]
    assert (await client.data("{ engines { totalCount } }"))["engines"]["totalCount"] == 0


async def test_the_limits_are_settings(client_with: Any) -> None:
    strict = await client_with(max_query_cost=100, max_query_depth=3, max_query_aliases=0)
    assert await strict.error_codes("{ engines(first: 100) { nodes { slug } } }") == ["QUERY_LIMIT_EXCEEDED"]
    assert await strict.error_codes("{ engines { nodes { versions { totalCount } } } }") == [
        "QUERY_LIMIT_EXCEEDED"
    ]
    assert await strict.error_codes("{ a: registryVersion }") == ["QUERY_LIMIT_EXCEEDED"]
    body = await strict.execute("{ engines(first: 99) { nodes { slug } } }")
    assert body["extensions"]["cost"] == {"requested": 100, "maximum": 100}


async def test_every_answer_reports_its_cost(
    client: GraphQLClient, writer_token: str, settings: Settings
) -> None:
    query = await client.execute("{ engines(first: 5) { nodes { slug } } }")
    assert query["extensions"]["cost"] == {"requested": 6, "maximum": settings.max_query_cost}
    mutation = await client.execute(
        'mutation { createEngine(input: {slug: "c", name: "C"}) { slug } }', token=writer_token
    )
    assert mutation["data"] == {"createEngine": {"slug": "c"}}
    assert mutation["extensions"]["cost"]["requested"] == 1
    failed = await client.execute('{ engine(slug: "c", id: "x") { slug } }')
    assert failed["extensions"]["cost"]["requested"] == 1


async def test_a_scope_is_checked_before_anything_is_looked_up(client: GraphQLClient, session: Any) -> None:
    from budgraph.auth.service import create_key

    reader = await create_key(session, "reader", ApiKeyScope.READ)
    await session.commit()
    # The id names no model (and is malformed): a key without `write` learns nothing about it.
    response = await client.post('mutation { extractModel(id: "not-an-id") { id } }', token=reader)
    assert response.status_code == 403
    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["FORBIDDEN"]
    anonymous = await client.post('mutation { scanModel(id: "TW9kZWw6OTk5") { id } }')
    assert anonymous.status_code == 401
