"""Direct answers are the executor's answers: the same JSON, key for key, on the same data.

Given the seed plus versions on every device (pre-releases among them), committed, when each
document a runtime may send for a directly answered field (and documents hypothesis builds from the
field's types: random selections, aliases, fragments, `__typename`) is answered by an app served for
real that answers it directly and by one that runs graphql-core's executor, then the two answers
are identical, key for key (the rate-limit budget left aside).
"""

from __future__ import annotations

import difflib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from graphql import get_named_type, is_leaf_type, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.direct import Planner
from budgraph.graphql.direct_fields import COMPILED_ROOTS, DIRECT_FIELDS, TABLE_SHAPES
from budgraph.graphql.limits import PreparedDocument
from budgraph.graphql.schema import schema
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.seeds.service import seed
from budgraph.settings import Settings
from tests import factories
from tests.conftest import live_key
from tests.live import LiveServer, serve

GRAPHQL = schema._schema
VERSION_FIELDS = [
    name
    for name, f in GRAPHQL.type_map["EngineVersion"].fields.items()
    if is_leaf_type(get_named_type(f.type))
]
ENGINE_FIELDS = [
    name for name, f in GRAPHQL.type_map["Engine"].fields.items() if is_leaf_type(get_named_type(f.type))
]
LATEST = "query ($e: String!, $d: DeviceArchitecture, $p: Boolean) {{ latestEngineVersion(engine: $e, deviceArchitecture: $d, includePrereleases: $p) {{ {selection} }} }}"
FRAGMENTS = (
    " fragment V on EngineVersion { version status endpoints } fragment E on Engine { slug homepageUrl }"
)
EVERYTHING = " ".join(VERSION_FIELDS) + " engine { " + " ".join(ENGINE_FIELDS) + " }"


async def _world(url: str) -> list[str]:
    """The seed plus versions on every device (pre-releases among them), committed."""
    engine = create_async_engine(url, pool_size=1)
    slugs = []
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            await seed(uow.session)
            await uow.session.flush()
            qwen2 = await architecture_named(uow.session, "Qwen2ForCausalLM")
            for n, device in enumerate(("CUDA", "ROCM", "CPU", "HPU")):
                row = await factories.engine(uow.session, f"direct-{n}")
                slugs.append(row.slug)
                for version in ("1.0.0", "1.1.0rc1", "0.9.0", "2.0.0.dev1"):
                    made = await factories.version(
                        uow.session,
                        row,
                        version,
                        device=device,
                        endpoints=["CHAT"] if version < "1" else ["CHAT", "EMBEDDING"],
                        status="deprecated" if version == "0.9.0" else "active",
                    )
                    await factories.edge(uow.session, made, qwen2)
            await factories.model(uow.session, "Qwen/Qwen2.5-7B-Instruct", architecture="Qwen2ForCausalLM")
            await factories.model(
                uow.session, "meta-llama/Llama-3.1-8B-Instruct", architecture="LlamaForCausalLM"
            )
            await factories.model(uow.session, "org/not-extracted-yet")
    finally:
        await engine.dispose()
    return ["vllm", "sglang", "llama-cpp", *slugs, "no-such-engine"]


async def architecture_named(session: RequestSession, class_name: str) -> db.ModelArchitecture:
    found = await session.scalar(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name == class_name)
    )
    assert found is not None
    return found


class Answers:
    """The same document, answered directly and by the executor (two apps served for real)."""

    def __init__(self, direct: LiveServer, ordinary: LiveServer, http: httpx.AsyncClient) -> None:
        self.direct, self.ordinary, self.http = direct, ordinary, http

    async def both(
        self, document: str, variables: dict[str, Any] | None = None
    ) -> tuple[httpx.Response, httpx.Response]:
        body = {"query": document, "variables": variables or {}}
        fast = await self.http.post(f"{self.direct.http}/graphql", json=body)
        slow = await self.http.post(f"{self.ordinary.http}/graphql", json=body)
        return fast, slow


@pytest.fixture
async def answers(live_settings: Settings, live_url: str) -> AsyncIterator[Answers]:
    await _world(live_url)
    with (
        serve(create_app(live_settings.model_copy(update={"direct_answers": True}))) as direct,
        serve(create_app(live_settings.model_copy(update={"direct_answers": False}))) as ordinary,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Answers(direct, ordinary, http)


def _same(fast: httpx.Response, slow: httpx.Response) -> bool:
    """The same answer, key for key, in the same order (the rate-limit budget aside)."""
    a, b = fast.json(), slow.json()
    for answer in (a, b):
        answer.get("extensions", {}).pop("rateLimit", None)
    return fast.status_code == slow.status_code and json.dumps(a) == json.dumps(b)


def _difference(fast: httpx.Response, slow: httpx.Response) -> str:
    """Where two answers differ (for a failing assertion)."""
    a, b = fast.json(), slow.json()
    for answer in (a, b):
        answer.get("extensions", {}).pop("rateLimit", None)
    lines = difflib.unified_diff(
        json.dumps(b, indent=1).splitlines(), json.dumps(a, indent=1).splitlines(), "executor", "direct", n=2
    )
    return "\n".join(lines)


def _planned(document: str, variables: dict[str, Any]) -> bool:
    prepared = PreparedDocument(parse(document), ())
    operation = prepared.operation(None)
    assert operation is not None
    planner = Planner(GRAPHQL, DIRECT_FIELDS, COMPILED_ROOTS, TABLE_SHAPES)
    return planner.plan(operation, prepared.fragments(), variables) is not None


SELECTIONS = [
    EVERYTHING,
    "version containerImage",
    "__typename id version engine { __typename slug }",
    "a: version b: version image: containerImage engine { s: slug n: name }",
    "...V engine { ...E }",
    "... on EngineVersion { version engine { slug } } engine { name }",
    "engine { slug } engine { name createdAt }",
]


async def test_runtime_documents_get_the_same_answer_directly(answers: Answers) -> None:
    engines = [
        "vllm",
        "sglang",
        "llama-cpp",
        "direct-0",
        "direct-1",
        "direct-2",
        "direct-3",
        "no-such-engine",
    ]
    for selection, engine, device, prereleases in itertools.product(
        SELECTIONS, engines, (None, "CUDA", "ROCM", "CPU", "HPU"), (None, True, False)
    ):
        document = LATEST.format(selection=selection) + (
            FRAGMENTS if "..." in selection and "on " not in selection else ""
        )
        variables = {"e": engine, "d": device} | ({} if prereleases is None else {"p": prereleases})
        assert _planned(document, variables), document
        fast, slow = await answers.both(document, variables)
        assert fast.status_code == 200
        assert _same(fast, slow), (document, variables, _difference(fast, slow))
    # every one of them was answered directly, none handed to the executor
    assert answers.direct.app.state.executor.answered_directly == len(SELECTIONS) * 8 * 5 * 3
    assert answers.ordinary.app.state.executor.answered_directly == 0


def _selection(depth: int = 0) -> st.SearchStrategy[str]:
    scalars = st.lists(st.sampled_from([*VERSION_FIELDS, "__typename"]), min_size=1, max_size=6)
    engine = st.lists(st.sampled_from([*ENGINE_FIELDS, "__typename"]), min_size=1, max_size=4)
    alias = st.one_of(st.just(""), st.sampled_from(["a: ", "b: ", "x: "]))

    def render(fields: list[str], engine_fields: list[str] | None, aliases: list[str], wrap: bool) -> str:
        parts = [f"{a}{f}" for f, a in zip(fields, itertools.cycle(aliases), strict=False)]
        if engine_fields is not None:
            parts.append("engine { " + " ".join(engine_fields) + " }")
        body = " ".join(parts)
        return f"... on EngineVersion {{ {body} }}" if wrap else body

    return st.builds(
        render, scalars, st.one_of(st.none(), engine), st.lists(alias, min_size=1, max_size=3), st.booleans()
    )


@pytest.mark.parametrize("slug", ["vllm", "direct-1"])
async def test_random_selections_get_the_same_answer_directly(answers: Answers, slug: str) -> None:
    drawn: list[str] = []

    @settings(max_examples=40, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_selection())
    def collect(selection: str) -> None:
        drawn.append(selection)

    collect()
    for selection in drawn:
        document = LATEST.format(selection=selection)
        fast, slow = await answers.both(document, {"e": slug, "d": "CUDA"})
        if slow.json().get("errors"):
            continue  # a selection that does not validate (aliases that clash): nobody answers it
        assert _planned(document, {"e": slug, "d": "CUDA"}), document
        assert _same(fast, slow), document


async def test_what_cannot_be_answered_directly_is_executed(answers: Answers) -> None:
    for document in (
        '{ latestEngineVersion(engine: "vllm") { version architectures(first: 2) { nodes { className } } } }',
        '{ latestEngineVersion(engine: "vllm") { version @include(if: true) } }',
        '{ latestEngineVersion(engine: "vllm") { version } engines(first: 1) { totalCount } }',
    ):
        assert not _planned(document, {})
        fast, slow = await answers.both(document)
        assert _same(fast, slow), document


ARCH_FIELDS = [
    name
    for name, f in GRAPHQL.type_map["ModelArchitecture"].fields.items()
    if is_leaf_type(get_named_type(f.type))
]
SLICE_NODE = (
    "containerImage toolCallParser toolChatTemplate reasoningParser supportsLora supportsPipelineParallelism"
)
SLICE_SELECTIONS = [
    f"nodes {{ engineVersion {{ version engine {{ slug }} }} {SLICE_NODE} }}",
    f"nodes {{ engineVersion {{ {EVERYTHING} }} architecture {{ {' '.join(ARCH_FIELDS)} }} {SLICE_NODE} }}",
    "edges { cursor node { containerImage engineVersion { id } } } pageInfo { hasNextPage hasPreviousPage"
    " startCursor endCursor }",
    "__typename a: nodes { image: containerImage } b: nodes { __typename tool: toolCallParser }",
    "nodes { ... on CompatibleEngineVersion { engineVersion { ...V engine { ...E } } } }" + FRAGMENTS,
]
SLICE = (
    "query ($m: String, $a: String, $d: DeviceArchitecture, $e: String, $v: String, $p: [Endpoint!],"
    " $s: [EngineVersionStatus!], $f: Int) {{ compatibleEngineVersions(model: $m, architecture: $a,"
    " deviceArchitecture: $d, engine: $e, version: $v, endpoints: $p, statuses: $s, first: $f)"
    " {{ {selection} }} }}"
)
TARGETS = [
    {"a": "Qwen2ForCausalLM"},
    {"m": "Qwen/Qwen2.5-7B-Instruct"},
    {"m": "qwen/qwen2.5-7b-instruct"},
    {"m": "Qwen/QwQ-32B", "a": "Qwen2ForCausalLM"},
    {"m": "deepseek-ai/DeepSeek-R1-0528", "a": "DeepseekV3ForCausalLM"},
    {"m": "meta-llama/Llama-3.1-8B-Instruct"},
    {"a": "LlamaForCausalLM"},
    {"m": "org/not-extracted-yet"},
    {"m": "org/never-registered"},
    {"a": "NoSuchForCausalLM"},
    {},
]
FILTERS = [
    {},
    {"d": "CUDA"},
    {"d": "ROCM", "e": "direct-1"},
    {"e": "vllm", "f": 3},
    {"f": 1},
    {"f": 0},
    {"f": 101},
    {"p": ["EMBEDDING"]},
    {"p": ["CHAT", "EMBEDDING"], "d": "CUDA"},
    {"s": ["DEPRECATED"]},
    {"s": ["ACTIVE", "DEPRECATED"], "e": "direct-0"},
    {"v": "1.0", "e": "direct-0"},
    {"v": "not a version"},
]


async def test_runtime_slices_get_the_same_answer_directly(answers: Answers) -> None:
    executor = answers.direct.app.state.executor
    for selection, target, filters in itertools.product(SLICE_SELECTIONS, TARGETS, FILTERS):
        document = SLICE.format(selection=selection)
        variables = target | filters
        before = executor.answered_directly
        fast, slow = await answers.both(document, variables)
        assert _same(fast, slow), (document, variables, _difference(fast, slow))
        # a slice with rows is answered directly; errors and empty slices by the executor
        answer = slow.json()
        listed = answer.get("data") and answer["data"]["compatibleEngineVersions"]
        rows = listed and (listed.get("nodes") or listed.get("a") or listed.get("edges"))
        directly = executor.answered_directly - before
        assert directly == (1 if rows else directly), (document, variables)
        assert not (directly and answer.get("errors")), (document, variables)
    assert executor.answered_directly > 200, executor.answered_directly
    assert answers.ordinary.app.state.executor.answered_directly == 0


async def test_slices_that_page_or_count_are_executed(answers: Answers) -> None:
    first = await answers.http.post(
        f"{answers.direct.http}/graphql",
        json={
            "query": SLICE.format(selection="pageInfo { endCursor }"),
            "variables": {"a": "Qwen2ForCausalLM", "f": 2},
        },
    )
    cursor = first.json()["data"]["compatibleEngineVersions"]["pageInfo"]["endCursor"]
    for document, variables in (
        (SLICE.format(selection="totalCount nodes { containerImage }"), {"a": "Qwen2ForCausalLM"}),
        (
            '{ compatibleEngineVersions(architecture: "Qwen2ForCausalLM", after: "' + cursor + '")'
            " { nodes { containerImage } } }",
            {},
        ),
        (
            '{ compatibleEngineVersions(architecture: "Qwen2ForCausalLM", last: 2) { nodes { containerImage } } }',
            {},
        ),
        (
            '{ compatibleEngineVersions(architecture: "Qwen2ForCausalLM") { nodes { engineVersion { architectures(first: 1) { totalCount } } } } }',
            {},
        ),
    ):
        before = answers.direct.app.state.executor.answered_directly
        fast, slow = await answers.both(document, variables)
        assert _same(fast, slow), (document, _difference(fast, slow))
        assert fast.json().get("errors") is None, fast.text
        assert answers.direct.app.state.executor.answered_directly == before, document


async def test_a_new_parser_rule_is_chosen_at_once(answers: Answers, live_url: str) -> None:
    """The rule book is per registry version: a rule written through the API is in the next answer."""
    key = await live_key(live_url, "rules", ApiKeyScope.WRITE)
    document = SLICE.format(selection="nodes { engineVersion { engine { id } } toolCallParser }")
    variables = {"m": "acme/Qwen-Tuned-7B", "a": "Qwen2ForCausalLM", "e": "direct-0"}
    before = (await answers.both(document, variables))[0].json()["data"]["compatibleEngineVersions"]["nodes"]
    assert before
    assert all(node["toolCallParser"] != "pythonic" for node in before)
    created = await answers.http.post(
        f"{answers.direct.http}/graphql",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "query": "mutation ($i: CreateParserRuleInput!) { createParserRule(input: $i) { id } }",
            "variables": {
                "i": {
                    "engineId": before[0]["engineVersion"]["engine"]["id"],
                    "ruleType": "TOOL",
                    "parser": "pythonic",
                    "matchType": "PREFIX",
                    "pattern": "acme/",
                }
            },
        },
    )
    assert created.json().get("errors") is None, created.text
    fast, slow = await answers.both(document, variables)
    assert _same(fast, slow), _difference(fast, slow)
    after = fast.json()["data"]["compatibleEngineVersions"]["nodes"]
    assert [node["toolCallParser"] for node in after] == ["pythonic"] * len(before)


async def test_a_version_written_through_the_api_is_in_the_next_direct_slice(
    answers: Answers, live_url: str
) -> None:
    """A slice's objects are built once per registry version: a repeat at the same version reads
    only the rows' ids, and a write (a new version) is in the very next answer."""
    key = await live_key(live_url, "versions", ApiKeyScope.WRITE)
    document = SLICE.format(selection="nodes { engineVersion { id version } containerImage }")
    variables = {"m": "Qwen/Qwen2.5-7B-Instruct", "a": "Qwen2ForCausalLM", "e": "direct-0"}
    first, repeat = [(await answers.both(document, variables))[0].json() for _ in range(2)]
    assert repeat["data"] == first["data"]
    nodes = first["data"]["compatibleEngineVersions"]["nodes"]
    assert nodes
    changed = await answers.http.post(
        f"{answers.direct.http}/graphql",
        headers={"Authorization": f"Bearer {key}"},
        json={
            "query": "mutation ($id: ID!) { updateEngineVersion(id: $id, input: {containerImage:"
            ' "acme/rebuilt:1"}) { id } }',
            "variables": {"id": nodes[0]["engineVersion"]["id"]},
        },
    )
    assert changed.json().get("errors") is None, changed.text
    fast, slow = await answers.both(document, variables)
    assert _same(fast, slow), _difference(fast, slow)
    after = fast.json()["data"]["compatibleEngineVersions"]["nodes"]
    assert after[0]["containerImage"] == "acme/rebuilt:1"
    assert [node["containerImage"] for node in after[1:]] == [node["containerImage"] for node in nodes[1:]]


CHANGES_DOC = (
    "query ($s: BigInt!, $e: ID, $a: String, $k: [String!], $f: Int!) {{ changes(since: $s, epoch: $e,"
    " after: $a, kinds: $k, first: $f) {{ {selection} }} }}"
)
CHANGE_SELECTIONS = [
    "registryVersion registryEpoch hasMore endCursor changes { registryVersion entityKind entityId"
    " entityKey operation changedFields actor changedAt }",
    "hasMore c: changes { __typename kind: entityKind id: entityId } ... on RegistryChanges { endCursor }",
    "changes { entityId fieldChanges { field before after } }",
]


async def test_change_feed_slices_get_the_same_answer_directly(answers: Answers, live_url: str) -> None:
    key = await live_key(live_url, "feed", ApiKeyScope.READ)
    first = await answers.http.post(
        f"{answers.direct.http}/graphql",
        json={"query": "{ registryVersion registryEpoch changes(since: 0, first: 7) { endCursor } }"},
    )
    head = first.json()["data"]
    cursor, epoch, version = head["changes"]["endCursor"], head["registryEpoch"], int(head["registryVersion"])
    requests: list[dict[str, Any]] = [
        {"s": 0, "f": 100},
        {"s": 0, "f": 3, "a": cursor},
        {"s": 0, "f": 5, "k": ["EngineVersion"]},
        {"s": 0, "f": 5, "k": ["EngineVersion", "Engine"], "a": cursor},
        {"s": version - 1, "f": 100, "e": epoch},
        {"s": version, "f": 10},
        {"s": version + 1, "f": 10},
        {"s": 0, "f": 10, "e": "not-this-registry"},
        {"s": 0, "f": 0},
        {"s": 0, "f": 101},
        {"s": -1, "f": 1},
        {"s": 0, "f": 1, "a": "bm90IGEgY3Vyc29y"},
        {"s": 0, "f": 1, "k": ["NoSuchKind"]},
    ]
    executor = answers.direct.app.state.executor
    for selection, variables, token in itertools.product(CHANGE_SELECTIONS, requests, (None, key)):
        document = CHANGES_DOC.format(selection=selection)
        before = executor.answered_directly
        body = {"query": document, "variables": variables}
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        fast = await answers.http.post(f"{answers.direct.http}/graphql", json=body, headers=headers)
        slow = await answers.http.post(f"{answers.ordinary.http}/graphql", json=body, headers=headers)
        assert _same(fast, slow), (document, variables, _difference(fast, slow))
        refused = slow.json().get("errors") is not None
        # A slice the feed gives is answered directly; a refusal is worded by the executor, and so
        # is a field behind a permission (`fieldChanges` needs a key).
        directly = not refused and "fieldChanges" not in selection
        assert executor.answered_directly - before == int(directly), (document, variables, slow.text)
