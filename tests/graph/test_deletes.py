"""Every registry entity an operator creates can be deleted (write scope): what depends on it goes
with it or the delete is refused naming what still refers to it, and every deleted object leaves a
tombstone in the change feed."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from sqlalchemy import func, select

from budgraph import db
from budgraph.auth.permissions import scope_needed
from budgraph.auth.service import create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.schema import schema
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from budgraph.leaderboards.repository import restand
from budgraph.registry.snapshots import logged_kinds
from budgraph.storage import LocalObjectStore
from budgraph.storage.keys import ObjectKey
from tests import factories
from tests.conftest import GraphQLClient

DELETE = """
mutation ($id: ID!) { %s(id: $id) { deletedId alsoDeletedIds } }
"""
FEED = """
query ($since: BigInt!) {
  registryVersion
  changes(since: $since) { changes { registryVersion entityKind entityId entityKey operation changedFields } }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { id } }"
REMOVE_COMPATIBILITY = """
mutation ($id: ID!, $archs: [String!]!) { removeCompatibility(engineVersionId: $id, architectures: $archs) { id } }
"""
# Kinds no operator creates through the API: licenses come from the seed, benchmarks from the
# leaderboard refresh; compatibility edges are removed with `removeCompatibility`.
# What an upstream release declares goes with the release (`deleteUpstreamRelease`).
NOT_DELETED_BY_ID = {
    "License",
    "Benchmark",
    "CompatibilityEdge",
    "UpstreamArchitecture",
    "UpstreamDroppedArchitecture",
    "UpstreamQuantization",
}


def gid(row: Any) -> str:
    return to_global_id(type(row).__name__, row.id)


async def _delete(client: GraphQLClient, token: str, mutation: str, row: Any) -> dict[str, Any]:
    data: dict[str, Any] = (await client.data(DELETE % mutation, {"id": gid(row)}, token=token))[mutation]
    return data


async def _refusal(client: GraphQLClient, token: str, mutation: str, row: Any) -> list[tuple[str, str, str]]:
    body = await client.execute(DELETE % mutation, {"id": gid(row)}, token=token)
    assert body["data"] is None
    return [(e["extensions"]["code"], e["extensions"]["field"], e["message"]) for e in body["errors"]]


async def _tombstones(client: GraphQLClient, since: int) -> list[tuple[str, str, dict[str, Any], list[str]]]:
    feed = (await client.data(FEED, {"since": since}))["changes"]["changes"]
    assert all(change["operation"] == "DELETE" for change in feed), feed
    return [(c["entityKind"], c["entityId"], c["entityKey"], c["changedFields"]) for c in feed]


async def _version(client: GraphQLClient) -> int:
    version: int = (await client.data("{ registryVersion }"))["registryVersion"]
    return version


def test_every_kind_an_operator_creates_has_a_delete_mutation_needing_write() -> None:
    mutation = schema.get_type_by_name("Mutation")
    assert mutation is not None
    fields = {field.python_name: field for field in mutation.fields}  # type: ignore[union-attr]
    for kind in sorted(set(logged_kinds()) - NOT_DELETED_BY_ID):
        name = "delete_" + "".join(f"_{c.lower()}" if c.isupper() else c for c in kind).lstrip("_")
        assert name in fields, kind
        assert scope_needed(fields[name].extensions) is ApiKeyScope.WRITE, kind
    graph = schema._schema.type_map["Mutation"]
    assert isinstance(graph, GraphQLObjectType)
    assert "removeCompatibility" in graph.fields


async def test_an_engine_goes_with_its_parser_rules_but_not_while_it_has_versions(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given an engine with a version and a parser rule
    sglang = await factories.engine(session, "sglang")
    version = await factories.version(session, sglang, "0.4.0")
    rule = db.ParserRule(
        engine_id=sglang.id, rule_type="tool", parser="hermes", match_type="prefix", pattern="Qwen/"
    )
    session.add(rule)
    await session.commit()
    before = await _version(client)

    # when it is deleted while it has a version, then that is refused, naming the version, and nothing changes
    assert await _refusal(client, writer_token, "deleteEngine", sglang) == [
        (
            "CONFLICT",
            "id",
            "engine 'sglang' is still referred to by 1 engine versions: 0.4.0 (CUDA); delete those versions first",
        )
    ]
    assert await _version(client) == before

    # when the version goes first, then the engine goes with its rule: one version, three tombstones
    assert await _delete(client, writer_token, "deleteEngineVersion", version) == {
        "deletedId": gid(version),
        "alsoDeletedIds": [],
    }
    assert await _delete(client, writer_token, "deleteEngine", sglang) == {
        "deletedId": gid(sglang),
        "alsoDeletedIds": [gid(rule)],
    }
    assert await _version(client) == before + 2
    assert await _tombstones(client, before) == [
        (
            "EngineVersion",
            gid(version),
            {"device_architecture": "CUDA", "engine_id": gid(sglang), "version": "0.4.0"},
            [
                "container_image",
                "device_architecture",
                "endpoints",
                "engine_id",
                "features",
                "id",
                "origin",
                "reasoning_parsers",
                "release_date",
                "source",
                "source_url",
                "status",
                "tool_call_parsers",
                "upstream_release_id",
                "version",
                "version_key",
                "withdrawn_architectures",
                "withdrawn_quantization",
            ],
        ),
        (
            "Engine",
            gid(sglang),
            {"slug": "sglang"},
            ["homepage_url", "id", "name", "origin", "slug", "source", "source_url"],
        ),
        (
            "ParserRule",
            gid(rule),
            {"engine_id": gid(sglang), "match_type": "prefix", "pattern": "Qwen/", "rule_type": "tool"},
            [
                "chat_template",
                "enabled",
                "engine_id",
                "id",
                "match_type",
                "notes",
                "origin",
                "parser",
                "pattern",
                "priority",
                "rule_type",
                "source",
                "source_url",
            ],
        ),
    ]
    for row in (sglang, version, rule):
        assert await client.data(NODE, {"id": gid(row)}) == {"node": None}


async def test_a_version_goes_with_its_edges_and_an_architecture_only_once_unused(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    version = await factories.version(session, vllm, "0.8.0")
    other = await factories.version(session, vllm, "0.9.0")
    llama = await factories.architecture(session, "LlamaForCausalLM")
    edge = await factories.edge(session, version, llama)
    await factories.edge(session, other, llama)
    await factories.model(session, "meta-llama/Llama-3.1-8B", architecture="LlamaForCausalLM")
    await session.commit()
    before = await _version(client)

    # an architecture that versions serve, or that models have, stays
    assert await _refusal(client, writer_token, "deleteModelArchitecture", llama) == [
        (
            "CONFLICT",
            "id",
            "model architecture 'LlamaForCausalLM' is still referred to by 2 engine versions serving it:"
            " vllm 0.9.0 (CUDA), vllm 0.8.0 (CUDA); remove its compatibility (`removeCompatibility`) first",
        )
    ]
    # a version goes with its edges: tombstones for both, no update of the deleted version
    assert await _delete(client, writer_token, "deleteEngineVersion", version) == {
        "deletedId": gid(version),
        "alsoDeletedIds": [gid(edge)],
    }
    assert [(kind, key) for kind, _, key, _ in await _tombstones(client, before)] == [
        ("CompatibilityEdge", {"architecture_id": gid(llama), "engine_version_id": gid(version)}),
        ("EngineVersion", {"device_architecture": "CUDA", "engine_id": gid(vllm), "version": "0.8.0"}),
    ]
    await client.data(
        REMOVE_COMPATIBILITY, {"id": gid(other), "archs": ["LlamaForCausalLM"]}, token=writer_token
    )
    assert await _refusal(client, writer_token, "deleteModelArchitecture", llama) == [
        (
            "CONFLICT",
            "id",
            "model architecture 'LlamaForCausalLM' is still referred to by 1 models of this architecture:"
            " meta-llama/Llama-3.1-8B; delete those models first",
        )
    ]


async def test_a_provider_goes_with_its_models_but_not_while_prices_name_it(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    aws = await factories.provider(session, "aws", kind="compute_cloud")
    h100 = await factories.hardware(session, "nvidia-h100")
    price = await factories.hardware_price(session, h100, aws, "4.5")
    claude = await factories.provider_model(session, aws, "anthropic.claude-3")
    titan = await factories.provider_model(session, aws, "amazon.titan")
    await session.commit()
    before = await _version(client)

    assert await _refusal(client, writer_token, "deleteProvider", aws) == [
        (
            "CONFLICT",
            "id",
            "provider 'aws' is still referred to by 1 hardware prices: nvidia-h100 us-east-1 gpu.1x (2025-01-01);"
            " delete those prices first",
        )
    ]
    assert await _delete(client, writer_token, "deleteHardwarePrice", price) == {
        "deletedId": gid(price),
        "alsoDeletedIds": [],
    }
    assert await _delete(client, writer_token, "deleteProviderModel", titan) == {
        "deletedId": gid(titan),
        "alsoDeletedIds": [],
    }
    assert await _delete(client, writer_token, "deleteProvider", aws) == {
        "deletedId": gid(aws),
        "alsoDeletedIds": [gid(claude)],
    }
    assert [(kind, key) for kind, _, key, _ in await _tombstones(client, before)] == [
        (
            "HardwarePrice",
            {
                "as_of": "2025-01-01",
                "hardware_id": gid(h100),
                "instance_type": "gpu.1x",
                "provider_id": gid(aws),
                "region": "us-east-1",
            },
        ),
        ("ProviderModel", {"model_id": "amazon.titan", "provider_id": gid(aws)}),
        ("Provider", {"slug": "aws"}),
        ("ProviderModel", {"model_id": "anthropic.claude-3", "provider_id": gid(aws)}),
    ]


async def test_hardware_goes_with_its_prices(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    gcp = await factories.provider(session, "gcp", kind="compute_cloud")
    l4 = await factories.hardware(session, "nvidia-l4")
    prices = [await factories.hardware_price(session, l4, gcp, "0.7", region=r) for r in ("eu", "us")]
    await session.commit()
    before = await _version(client)

    assert await _delete(client, writer_token, "deleteHardware", l4) == {
        "deletedId": gid(l4),
        "alsoDeletedIds": [gid(price) for price in prices],
    }
    assert [(kind, entity_id) for kind, entity_id, _, _ in await _tombstones(client, before)] == [
        ("Hardware", gid(l4)),
        ("HardwarePrice", gid(prices[0])),
        ("HardwarePrice", gid(prices[1])),
    ]
    assert await client.data("{ hardwarePrices { totalCount } }") == {"hardwarePrices": {"totalCount": 0}}


async def test_a_model_goes_with_its_jobs_and_files_once_no_job_runs(
    session: RequestSession, client: GraphQLClient, writer_token: str, store: LocalObjectStore
) -> None:
    # given a model with a stored file, a running job, and a leaderboard entry linked to it
    model = await factories.model(session, "org/mistake-7b")
    job = db.Job(
        kind="extract",
        model_id=model.id,
        target=model.uri,
        dedupe_key="d",
        requested_by="t",
        status="running",
    )
    session.add(job)
    key = ObjectKey(model.id, "main", "config.json")
    stored = await store.put_bytes(key, b"{}")
    session.add(
        db.ModelFile(
            model_id=model.id,
            revision="main",
            path="config.json",
            size=2,
            sha256=stored.sha256,
            object_key=key.name,
        )
    )
    source = db.LeaderboardSource(key="arena", name="Arena", validators={})
    benchmark = db.Benchmark(key="arena:x", name="x")
    session.add_all([source, benchmark])
    await session.flush()
    snapshot = db.LeaderboardSnapshot(source_id=source.id, fetched_at=func.now())
    session.add(snapshot)
    await session.flush()
    entry = db.LeaderboardEntry(
        benchmark_id=benchmark.id,
        snapshot_id=snapshot.id,
        model_id=model.id,
        raw_model_name="mistake-7b",
        score=1,
        source="arena",
    )
    session.add(entry)
    await restand(session, [snapshot.id])
    await session.commit()

    # while its job runs, the model stays
    assert await _refusal(client, writer_token, "deleteModel", model) == [
        (
            "CONFLICT",
            "id",
            "model 'org/mistake-7b' is still referred to by 1 active jobs: extract (running); cancel them first",
        )
    ]
    assert await store.stat(key) is not None
    job.status = "succeeded"
    await session.commit()
    before = await _version(client)

    # then it goes with its job and file (from the object store too); the entry stays, unlinked
    assert await _delete(client, writer_token, "deleteModel", model) == {
        "deletedId": gid(model),
        "alsoDeletedIds": [],
    }
    assert await _tombstones(client, before) == [
        (
            "Model",
            gid(model),
            {"source_kind": "huggingface", "uri": "org/mistake-7b"},
            await _model_fields(session),
        ),
    ]
    assert await store.stat(key) is None
    for table in (db.Job, db.ModelFile, db.Model):
        assert await session.scalar(select(func.count()).select_from(table)) == 0
    await session.refresh(entry)
    assert entry.model_id is None


async def _model_fields(session: RequestSession) -> list[str]:
    from budgraph.registry.snapshots import recorded_columns

    return list(recorded_columns(db.Model))


async def test_deletes_need_a_write_key_and_an_existing_object_of_the_right_kind(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    reader = await create_key(session, "dashboard", ApiKeyScope.READ)
    await session.commit()
    variables = {"id": gid(vllm)}
    assert await client.error_codes(DELETE % "deleteEngine", variables) == ["UNAUTHENTICATED"]
    assert await client.error_codes(DELETE % "deleteEngine", variables, token=reader) == ["FORBIDDEN"]
    assert await client.error_codes(DELETE % "deleteHardware", variables, token=writer_token) == [
        "INVALID_ID"
    ]
    missing = {"id": to_global_id("Engine", 999_999)}
    assert await client.error_codes(DELETE % "deleteEngine", missing, token=writer_token) == ["NOT_FOUND"]
    assert await _version(client) == 0
    # a second delete of the same object finds nothing
    await _delete(client, writer_token, "deleteEngine", vllm)
    assert await client.error_codes(DELETE % "deleteEngine", variables, token=writer_token) == ["NOT_FOUND"]
    assert await _version(client) == 1


async def test_reseeding_does_not_bring_back_what_an_operator_deleted(
    sessions: Any, session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    from budgraph.kit.unit_of_work import UnitOfWork
    from budgraph.seeds.service import seed

    # given a seeded registry, from which an operator deletes a version, a provider and a hardware SKU
    async with UnitOfWork(sessions, actor="seed") as uow:
        await seed(uow.session)
    version = await session.scalar(
        select(db.EngineVersion).where(
            db.EngineVersion.version == "0.8.0", db.EngineVersion.device_architecture == "CUDA"
        )
    )
    provider = await session.scalar(select(db.Provider).join(db.ProviderModel).limit(1))
    hardware = await session.scalar(select(db.Hardware).join(db.HardwarePrice).limit(1))
    assert version is not None
    assert provider is not None
    assert hardware is not None
    prices_at_provider = (
        await session.scalars(select(db.HardwarePrice).where(db.HardwarePrice.provider_id == provider.id))
    ).all()
    for price in prices_at_provider:
        await _delete(client, writer_token, "deleteHardwarePrice", price)
    await _delete(client, writer_token, "deleteEngineVersion", version)
    await _delete(client, writer_token, "deleteProvider", provider)
    await _delete(client, writer_token, "deleteHardware", hardware)
    counts = {table: await session.scalar(select(func.count()).select_from(table)) for table in _SEEDED}
    registry_version = await _version(client)

    # when the seed runs again
    async with UnitOfWork(sessions, actor="seed") as uow:
        report = await seed(uow.session)

    # then nothing deleted comes back, nor what would refer to it, and nothing changed at all
    assert uow.version is None
    assert await _version(client) == registry_version
    assert {
        table: await session.scalar(select(func.count()).select_from(table)) for table in _SEEDED
    } == counts
    assert report.kept_deletions["EngineVersion"] == 1
    assert report.kept_deletions["Provider"] == 1
    assert report.kept_deletions["Hardware"] == 1
    assert report.created == {}


_SEEDED = (
    db.Engine,
    db.EngineVersion,
    db.CompatibilityEdge,
    db.Provider,
    db.ProviderModel,
    db.Hardware,
    db.HardwarePrice,
)
