"""Compiled answers are the executor's answers: the same JSON, key for key, on the same data.

Given the seed plus models with every fact filled in (and models with none), licenses, registered
and unregistered architectures and engine versions on every device, committed, when model pages
and model lookups (every plain field of every type they reach, random selections, aliases,
fragments, `__typename`, every order, page sizes, cursors) are answered by an app served for real
that compiles them into one statement and by one that runs graphql-core's executor, then the two
answers are identical, key for key (the rate-limit budget left aside), and the documents that can
be compiled were.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from graphql import GraphQLObjectType, get_named_type, is_leaf_type, parse
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
from budgraph.leaderboards import repository as leaderboards_repository
from budgraph.seeds.service import seed
from budgraph.settings import Settings
from tests import factories
from tests.conftest import live_key
from tests.graph.test_direct_answers import Answers, _difference, _same, architecture_named
from tests.live import serve

GRAPHQL = schema._schema


def leaves(type_name: str) -> list[str]:
    """The type's fields that take no arguments and give a scalar, an enum or a list of them."""
    graphql_type = GRAPHQL.type_map[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return [
        name
        for name, f in graphql_type.fields.items()
        if is_leaf_type(get_named_type(f.type))
        and not f.args
        # a field resolved in Python (not a column) is the executor's
        and getattr(f.extensions["strawberry-definition"], "base_resolver", None) is None
    ]


ENGINE = " ".join(leaves("Engine"))
VERSION = " ".join(leaves("EngineVersion")) + f" engine {{ {ENGINE} }}"
ARCHITECTURE = " ".join(leaves("ModelArchitecture"))
LICENSE = " ".join(leaves("License"))
MODEL = " ".join(leaves("Model"))
EVERYTHING = (
    f"{MODEL} license {{ {LICENSE} }} architecture {{ {ARCHITECTURE}"
    f" engineVersions(first: 4) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage }} nodes {{ {VERSION} }} }} }}"
)
SCORE = " ".join(leaf for leaf in leaves("LeaderboardEntry") if leaf != "percentile")
BENCHMARK = " ".join(leaves("Benchmark"))
JOB = " ".join(leaves("Job"))
FILE = " ".join(leaves("ModelFile"))
SCAN = " ".join(leaves("ScanResult"))
MODEL_LISTS = (
    f"factSources {{ field source __typename }} jobs(first: 10) {{ totalCount nodes {{ {JOB} }} }}"
    f" files(first: 50) {{ pageInfo {{ hasNextPage }} nodes {{ {FILE} }} }}"
    f" scanResults(first: 2) {{ totalCount pageInfo {{ hasNextPage hasPreviousPage }} nodes {{ {SCAN} }} }}"
)
DASHBOARD = (
    "uri license { key name } architecture { className engineVersions(first: 3)"
    " { nodes { version containerImage engine { slug } } } }"
)
FRAGMENTS = " fragment M on Model { uri status } fragment L on License { key kind }"
NODE_SELECTIONS = [
    EVERYTHING,
    DASHBOARD,
    "__typename id uri architecture { __typename engineVersions(first: 1) { __typename nodes { __typename id } } }",
    "a: uri b: uri license { k: key n: name } architectureName",
    "...M license { ...L }",
    "... on Model { uri license { key } } license { name } uri",
    "license { key } license { kind commercialUse } architecture { className } architecture { family }",
    "architecture { engineVersions(first: 0) { totalCount nodes { version } } }",
    "architecture { engineVersions(first: 100) { pageInfo { hasNextPage } nodes { version } } }",
    MODEL_LISTS,
    f"scores {{ {SCORE} benchmark {{ {BENCHMARK} }} model {{ uri }} }}",
    "s: scores { __typename score } uri",
    "uri files(first: 1) { totalCount nodes { path } } jobs { nodes { kind } } j: jobs(first: 1) { nodes { status } }",
]
LIST = "query ($f: Int, $o: ModelOrder) {{ models(first: $f, orderBy: $o) {{ {connection} }} }}"
CONNECTIONS = [
    "totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} nodes {{ {node} }}",
    "nodes {{ {node} }}",
    "__typename edges {{ __typename cursor node {{ {node} }} }} pageInfo {{ __typename endCursor }}",
    "a: totalCount nodes {{ {node} }} b: pageInfo {{ hasNextPage }}",
]
ONE = "query ($u: String) {{ model(uri: $u) {{ {node} }} }}"
ORDERS = [None] + [
    {"field": field, "direction": direction}
    for field, direction in itertools.product(
        ("URI", "PARAMETER_COUNT", "CONTEXT_LENGTH", "CREATED_AT"), ("ASC", "DESC")
    )
]
URIS = [
    "Qwen/Qwen2.5-7B-Instruct",
    "qwen/qwen2.5-7b-instruct",  # a Hub id but for case
    "meta-llama/Llama-3.1-8B-Instruct",
    "https://example.com/weights/tiny.safetensors",
    "org/not-extracted-yet",
    "org/never-registered",
]


async def _world(url: str) -> None:
    """The seed, models with every fact (and with none), versions on every device, committed."""
    engine = create_async_engine(url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            session = uow.session
            await seed(session)
            await session.flush()
            qwen2 = await architecture_named(session, "Qwen2ForCausalLM")
            for n, device in enumerate(("CUDA", "ROCM", "CPU", "HPU")):
                row = await factories.engine(session, f"compiled-{n}")
                for version in ("1.0.0", "1.1.0rc1", "0.9.0"):
                    made = await factories.version(
                        session,
                        row,
                        version,
                        device=device,
                        endpoints=["CHAT", "EMBEDDING"],
                        status="deprecated" if version == "0.9.0" else "active",
                    )
                    await factories.edge(session, made, qwen2)
            apache = db.License(
                key="apache-2.0-compiled",
                name="Apache 2.0 (a test's copy)",
                url="https://www.apache.org/licenses/LICENSE-2.0",
                kind="permissive",
                commercial_use=True,
                aliases=["Apache License 2.0", "apache2"],
            )
            session.add(apache)
            await session.flush()
            await factories.model(
                session,
                "Qwen/Qwen2.5-7B-Instruct",
                architecture="Qwen2ForCausalLM",
                author="Qwen",
                modality="text",
                parameter_count=7_615_616_512,
                context_length=32768,
                license_id=apache.id,
                status="ready",
                revision="a09a35458c702b33eeacc393d103063234e8bc28",
                model_type="qwen2",
                layers=28,
                hidden_size=3584,
                attention_heads=28,
                kv_heads=4,
                head_dim=128,
                vocab_size=152064,
                dtype="bfloat16",
                quantization_method="awq",
                quantization_bits=4,
                experts_total=None,
                active_parameter_count=7_615_616_512,
                weight_bytes=15_231_233_024,
                kv_cache_bytes_per_token=57_344,
                sliding_window=131072,
                base_models=["Qwen/Qwen2.5-7B"],
                languages=["en", "zh"],
                datasets=["an 'odd' \"dataset\""],
                tags=["text-generation", "conversational"],
                pipeline_tag="text-generation",
                license_name="apache-2.0",
                gated=False,
                fact_sources={
                    "context_length": "config.json:max_position_embeddings",
                    "architecture": "config.json:architectures[0]",
                    "kv_cache_bytes_per_token": "computed from config.json",
                    "a__b": "a key with a double underscore",
                    "layer2_norm_x1y": "digits inside parts",
                },
                extraction_warnings=["no generation_config.json: defaults assumed"],
                extracted_at=datetime(2026, 11, 30, 12, 0, 0, 123456, tzinfo=UTC),
                scan_status="CLEAN",
                scanned_at=datetime(2026, 11, 30, 12, 5, tzinfo=UTC),
                edited_fields=["context_length"],
                source="a test",
                source_url="https://huggingface.co/Qwen/Qwen2.5-7B-Instruct",
            )
            qwen = await session.scalar(select(db.Model).where(db.Model.uri == "Qwen/Qwen2.5-7B-Instruct"))
            assert qwen is not None
            await _jobs_files_and_scans(session, qwen)
            await _scores(session, qwen)
            await factories.model(
                session,
                "meta-llama/Llama-3.1-8B-Instruct",
                architecture="LlamaForCausalLM",
                parameter_count=8_030_261_248,
                context_length=131072,
                status="failed",
                extraction_error="the Hub said 401: gated",
                gated=True,
                modality="vision-language",
            )
            await factories.model(
                session,
                "https://example.com/weights/tiny.safetensors",
                source_kind="url",
                architecture="NoSuchForCausalLM",
                parameter_count=None,
                context_length=2048,
                modality="embedding",
                status="archived",
                scan_status="UNSAFE",
            )
            await factories.model(session, "org/not-extracted-yet")
            for n in range(6):  # equal sort values: the tie-breaker orders them
                await factories.model(session, f"org/same-{n}", parameter_count=1_000, context_length=4096)
    finally:
        await engine.dispose()


async def _scores(session: RequestSession, model: db.Model) -> None:
    """Entries of the model in an old and a current snapshot, on benchmarks whose keys sort apart by
    code point and by locale ("Zeta" < "alpha" < "beta"), one lower-is-better, one with two raw names
    for the model (its best counts), and a benchmark it has no current entry on."""
    source = db.LeaderboardSource(key="compiled-board", name="A board")
    session.add(source)
    await session.flush()
    old, current = (
        db.LeaderboardSnapshot(source_id=source.id, fetched_at=datetime(2026, 11, day, tzinfo=UTC))
        for day in (1, 20)
    )
    session.add_all([old, current])
    benchmarks = {
        key: db.Benchmark(key=key, name=f"The {key}", source_key="compiled-board", higher_is_better=better)
        for key, better in (
            ("beta:latency", False),
            ("Zeta:elo", True),
            ("alpha:mmlu", True),
            ("only-old", True),
        )
    }
    session.add_all(benchmarks.values())
    await session.flush()
    rows = [
        ("Zeta:elo", current, "qwen2.5-7b", "1201.5", 3),
        ("Zeta:elo", current, "Qwen2.5 7B Instruct", "1250.25", 1),
        ("Zeta:elo", current, "someone-else", "1300", None),
        ("alpha:mmlu", current, "qwen2.5-7b", "74.2", None),
        ("beta:latency", current, "qwen2.5-7b", "0.35", None),
        ("beta:latency", current, "qwen-fast", "0.2", None),
        ("beta:latency", old, "qwen2.5-7b", "0.1", None),
        ("only-old", old, "qwen2.5-7b", "9", None),
    ]
    for key, snapshot, name, score, rank in rows:
        session.add(
            db.LeaderboardEntry(
                benchmark_id=benchmarks[key].id,
                snapshot_id=snapshot.id,
                model_id=None if name == "someone-else" else model.id,
                match_method=None if name == "someone-else" else "exact",
                raw_model_name=name,
                score=Decimal(score),
                rank=rank,
                source="compiled-board",
                extra={"votes": 12} if rank else {},
            )
        )
    await session.flush()
    await session.execute(leaderboards_repository.restand_statement(None))


async def _jobs_files_and_scans(session: RequestSession, model: db.Model) -> None:
    """Two scans (only the latest's results are listed), an extraction, files of two revisions."""
    jobs = []
    for n, (kind, status) in enumerate((("extract", "succeeded"), ("scan", "failed"), ("scan", "succeeded"))):
        job = db.Job(
            kind=kind,
            model_id=model.id,
            revision=model.revision,
            target=model.uri,
            dedupe_key=f"compiled-{n}",
            status=status,
            progress=100,
            step="done",
            attempts=n + 1,
            error="clamd went away" if status == "failed" else None,
            result={"files": n, "nested": {"b": [1, 2.5, None], "a": "x"}} if status == "succeeded" else None,
            requested_by="test",
            started_at=datetime(2026, 11, 30, 12, n, tzinfo=UTC),
            finished_at=datetime(2026, 11, 30, 12, n, 30, 500000, tzinfo=UTC),
        )
        session.add(job)
        await session.flush()
        jobs.append(job)
    for revision in (model.revision, "an-older-revision"):
        for path in ("model.safetensors", "config.json", "tokenizer.json"):
            session.add(
                db.ModelFile(
                    model_id=model.id,
                    revision=revision,
                    path=path,
                    size=15_231_233_024 if path.endswith("safetensors") else 4_096,
                    sha256="ab" * 32,
                    object_key=f"models/{model.id}/{revision}/{path}",
                )
            )
    for job in (jobs[1], jobs[2]):
        for scanner, path, status, severity in (
            ("modelscan", "model.safetensors", "CLEAN", None),
            ("clamav", "config.json", "FINDING", "CRITICAL"),
            ("modelscan", "tokenizer.json", "NOT_SCANNED", None),
            ("clamav", "tokenizer.json", "ERROR", None),
        ):
            session.add(
                db.ScanResult(
                    model_id=model.id,
                    job_id=job.id,
                    scanner=scanner,
                    path=path,
                    status=status,
                    severity=severity,
                    finding="Eicar-Test-Signature" if status == "FINDING" else None,
                    detail=f"job {job.id}",
                )
            )
    await session.flush()


@pytest.fixture
async def answers(live_settings: Settings, live_url: str) -> AsyncIterator[Answers]:
    await _world(live_url)
    with (
        serve(create_app(live_settings.model_copy(update={"direct_answers": True}))) as direct,
        serve(create_app(live_settings.model_copy(update={"direct_answers": False}))) as ordinary,
    ):
        async with httpx.AsyncClient(timeout=30) as http:
            yield Answers(direct, ordinary, http)


def planned(document: str, variables: dict[str, Any]) -> bool:
    prepared = PreparedDocument(parse(document), ())
    operation = prepared.operation(None)
    assert operation is not None
    planner = Planner(GRAPHQL, DIRECT_FIELDS, COMPILED_ROOTS, TABLE_SHAPES)
    return planner.plan(operation, prepared.fragments(), variables) is not None


def _with_fragments(document: str) -> str:
    return document + (FRAGMENTS if "...M" in document else "")


async def _compare(answers: Answers, document: str, variables: dict[str, Any]) -> dict[str, Any]:
    fast, slow = await answers.both(document, variables)
    assert fast.status_code == 200, fast.text
    assert _same(fast, slow), (document, variables, _difference(fast, slow))
    answer: dict[str, Any] = slow.json()
    return answer


async def test_model_pages_get_the_same_answer_compiled(answers: Answers) -> None:
    executor = answers.direct.app.state.executor
    asked = 0
    for node, connection, order, first in itertools.product(
        NODE_SELECTIONS, CONNECTIONS, ORDERS, (None, 1, 3, 100)
    ):
        document = _with_fragments(LIST.format(connection=connection.format(node=node)))
        variables = {"f": first, "o": order}
        assert planned(document, variables), document
        before = executor.answered_directly
        answer = await _compare(answers, document, variables)
        assert not answer.get("errors"), answer
        assert executor.answered_directly == before + 1, document
        asked += 1
    assert asked == len(NODE_SELECTIONS) * len(CONNECTIONS) * len(ORDERS) * 4
    assert answers.ordinary.app.state.executor.answered_directly == 0


async def test_models_by_uri_get_the_same_answer_compiled(answers: Answers) -> None:
    executor = answers.direct.app.state.executor
    for node, uri in itertools.product(NODE_SELECTIONS, URIS):
        document = _with_fragments(ONE.format(node=node))
        assert planned(document, {"u": uri}), document
        before = executor.answered_directly
        answer = await _compare(answers, document, {"u": uri})
        assert executor.answered_directly == before + 1, document
        assert (answer["data"]["model"] is None) == (uri == "org/never-registered"), (uri, answer)
    # compiled roots and one answered directly, in one document
    both = (
        '{ model(uri: "Qwen/Qwen2.5-7B-Instruct") { uri } latestEngineVersion(engine: "compiled-0") { version }'
        ' compatibleEngineVersions(architecture: "Qwen2ForCausalLM") { nodes { containerImage } } }'
    )
    assert planned(both, {})
    await _compare(answers, both, {})


async def test_the_next_page_after_a_compiled_page_is_the_executors(answers: Answers) -> None:
    document = "query ($a: String) { models(first: 2, after: $a) { pageInfo { endCursor hasNextPage } nodes { uri } } }"
    seen: list[str] = []
    cursor = None
    while True:
        answer = await _compare(answers, document, {"a": cursor})
        page = answer["data"]["models"]
        seen += [node["uri"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == 10


def _selection() -> st.SearchStrategy[str]:
    model = st.lists(st.sampled_from([*leaves("Model"), "__typename"]), min_size=1, max_size=8)
    license_ = st.lists(st.sampled_from([*leaves("License"), "__typename"]), min_size=1, max_size=4)
    version = st.lists(st.sampled_from([*leaves("EngineVersion"), "__typename"]), min_size=1, max_size=5)
    alias = st.sampled_from(["", "a: ", "b: "])

    def render(fields: list[str], licensed: list[str] | None, versions: list[str] | None, a: str) -> str:
        parts = [f"{a if i == 0 else ''}{f}" for i, f in enumerate(fields)]
        if licensed is not None:
            parts.append("license { " + " ".join(licensed) + " }")
        if versions is not None:
            parts.append("architecture { engineVersions(first: 2) { nodes { " + " ".join(versions) + " } } }")
        return " ".join(parts)

    return st.builds(render, model, st.one_of(st.none(), license_), st.one_of(st.none(), version), alias)


async def test_random_selections_get_the_same_answer_compiled(answers: Answers) -> None:
    drawn: list[str] = []

    @settings(max_examples=60, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    @given(_selection())
    def collect(selection: str) -> None:
        drawn.append(selection)

    collect()
    for selection in drawn:
        document = LIST.format(connection=f"nodes {{ {selection} }}")
        fast, slow = await answers.both(document, {"f": 5})
        if slow.json().get("errors"):
            continue  # a selection that does not validate (aliases that clash): nobody answers it
        assert planned(document, {"f": 5}), document
        assert _same(fast, slow), (document, _difference(fast, slow))


async def test_what_cannot_be_compiled_is_executed(answers: Answers) -> None:
    cursor_of_a_nested_list = "architecture { engineVersions(first: 1) { pageInfo { endCursor } } }"
    for document, variables in (
        ('{ models(filter: {search: "qwen"}) { nodes { uri } } }', {}),
        (LIST.format(connection=f"nodes {{ {cursor_of_a_nested_list} }}"), {}),
        (LIST.format(connection="nodes { uri jobs(first: 1) { nodes { model { uri } } } }"), {}),
        (LIST.format(connection='nodes { uri scores(benchmarks: ["a"]) { score } }'), {}),
        ("{ models(last: 2) { nodes { uri } } }", {}),
        ("{ models(first: 101) { nodes { uri } } }", {}),
        ("{ models(first: -1) { nodes { uri } } }", {}),
        ('{ model(uri: "a", id: "b") { uri } }', {}),
        ("{ model { uri } }", {}),
        ('{ model(uri: "Qwen/Qwen2.5-7B-Instruct") { uri @include(if: true) } }', {}),
        (
            '{ a: model(uri: "org/not-extracted-yet") { uri } a: model(uri: "org/not-extracted-yet") { status } }',
            {},
        ),
        (
            "{ models(first: 1) { nodes { architecture { engineVersions(first: 1, orderBy: {field: VERSION,"
            " direction: ASC}) { nodes { version } } } } } }",
            {},
        ),
    ):
        assert not planned(document, variables), document
        await _compare(answers, document, variables)


async def test_a_write_is_in_the_very_next_compiled_answer(answers: Answers, live_url: str) -> None:
    document = '{ model(uri: "org/registered-now") { uri status } }'
    before = await _compare(answers, document, {})
    assert before["data"]["model"] is None
    key = await live_key(live_url, "writer", ApiKeyScope.WRITE)
    registered = await answers.http.post(
        f"{answers.direct.http}/graphql",
        headers={"Authorization": f"Bearer {key}"},
        json={"query": 'mutation { registerModel(input: {uri: "org/registered-now"}) { model { uri } } }'},
    )
    assert not registered.json().get("errors"), registered.json()
    after = await _compare(answers, document, {})
    assert after["data"]["model"] == {"uri": "org/registered-now", "status": "REGISTERED"}
