"""The registry version grows once per write transaction; the change feed tells runtimes what changed:
every id it emits resolves, compatibility changes are engine-version changes, deletions are
tombstones, every write keeps its values before and after, and a reset registry is detected."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLObjectType
from sqlalchemy import select, text, update

from budgraph import db
from budgraph.auth.service import create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql.node import NODE_KINDS
from budgraph.graphql.schema import schema
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.registry.snapshots import logged_kinds
from tests import factories
from tests.conftest import GraphQLClient

CHANGES = """
query ($since: BigInt!, $after: String, $first: Int!, $kinds: [String!], $epoch: ID) {
  changes(since: $since, after: $after, first: $first, kinds: $kinds, epoch: $epoch) {
    registryVersion registryEpoch hasMore endCursor
    changes { registryVersion entityKind entityId operation changedFields actor }
  }
}
"""
AUDIT = """
query ($since: BigInt!, $kinds: [String!]) {
  changes(since: $since, kinds: $kinds) {
    changes { entityKind entityId entityKey operation fieldChanges { field before after } }
  }
}
"""
UPDATE_VERSION = """
mutation ($id: ID!, $image: String!) { updateEngineVersion(id: $id, input: {containerImage: $image}) { containerImage editedFields } }
"""
ADD = """
mutation ($id: ID!, $archs: [String!]!) { addCompatibility(engineVersionId: $id, architectures: $archs) { id } }
"""
REMOVE = """
mutation ($id: ID!, $archs: [String!]!) { removeCompatibility(engineVersionId: $id, architectures: $archs) { id } }
"""
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
EVERY_KIND = """
mutation ($engine: ID!, $provider: ID!) {
  createModelArchitecture(input: {className: "Qwen2ForCausalLM", family: "qwen2"}) { id }
  createEngineVersion(input: {engineId: $engine, version: "0.9.0", deviceArchitecture: ROCM,
                              containerImage: "vllm/vllm-rocm:0.9.0", architectures: ["Qwen2ForCausalLM"]}) { id }
  createParserRule(input: {engineId: $engine, ruleType: TOOL, parser: "hermes", matchType: PREFIX, pattern: "Qwen/"}) { id }
  createProviderModel(input: {providerId: $provider, modelId: "qwen-max", mode: CHAT, inputPerMillion: "1.6"}) { id }
  createHardware(input: {sku: "amd-mi300x", name: "MI300X", vendor: "amd", deviceArchitecture: ROCM, memoryGb: "192"}) { id }
  setHardwarePrice(input: {sku: "amd-mi300x", providerSlug: "aws", region: "us-east-1", instanceType: "p5e",
                           onDemandPerHour: "4.1", asOf: "2025-05-01"}) { id }
  createProvider(input: {slug: "qwen", name: "Qwen", kind: MODEL_API}) { id }
  registerModel(input: {uri: "Qwen/Qwen2.5-7B-Instruct"}) { model { id } }
}
"""


def gid(row: Any) -> str:
    return to_global_id(type(row).__name__, row.id)


async def test_each_write_bumps_the_version_once_and_logs_each_entity(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    vllm = await factories.engine(session, "vllm")
    version = await factories.version(session, vllm, "0.8.0")
    await session.commit()
    assert await client.data("{ registryVersion }") == {"registryVersion": 0}

    data = await client.data(
        UPDATE_VERSION, {"id": gid(version), "image": "vllm/vllm-openai:v0.8.0"}, token=writer_token
    )
    assert data == {
        "updateEngineVersion": {
            "containerImage": "vllm/vllm-openai:v0.8.0",
            "editedFields": ["container_image"],
        }
    }
    assert await client.data("{ registryVersion }") == {"registryVersion": 1}
    feed = (await client.data(CHANGES, {"since": 0, "first": 10}))["changes"]
    assert feed["registryVersion"] == 1
    assert feed["hasMore"] is False
    assert feed["changes"] == [
        {
            "registryVersion": 1,
            "entityKind": "EngineVersion",
            "entityId": gid(version),
            "operation": "UPDATE",
            "changedFields": ["container_image"],
            "actor": "test-writer",
        }
    ]
    # reads and no-op writes leave the version alone
    await client.data(
        UPDATE_VERSION, {"id": gid(version), "image": "vllm/vllm-openai:v0.8.0"}, token=writer_token
    )
    assert await client.data("{ registryVersion }") == {"registryVersion": 1}
    assert (await client.data(CHANGES, {"since": 1, "first": 10}))["changes"]["changes"] == []


async def test_a_compatibility_change_is_an_engine_version_change(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given a version and seven architectures
    vllm = await factories.engine(session, "vllm")
    version = await factories.version(session, vllm, "0.8.0")
    archs = [await factories.architecture(session, f"Arch{i}ForCausalLM") for i in range(7)]
    await session.commit()
    names = [arch.class_name for arch in archs]

    # when the version is said to serve them all
    await client.data(ADD, {"id": gid(version), "archs": names}, token=writer_token)

    # then the feed has an edge per architecture and one update of the version, paged in slices of 3
    seen: list[str] = []
    after = None
    while True:
        feed = (await client.data(CHANGES, {"since": 0, "first": 3, "after": after}))["changes"]
        seen += [f"{c['entityKind']}:{c['operation']}" for c in feed["changes"]]
        after = feed["endCursor"]
        if not feed["hasMore"]:
            break
    assert seen == ["CompatibilityEdge:CREATE"] * 7 + ["EngineVersion:UPDATE"]
    # a runtime syncing only engine versions sees it, with the architectures before and after
    only = (await client.data(CHANGES, {"since": 0, "first": 10, "kinds": ["EngineVersion"]}))["changes"]
    assert [(c["entityId"], c["changedFields"]) for c in only["changes"]] == [
        (gid(version), ["architectures"])
    ]
    audit = (await client.data(AUDIT, {"since": 0, "kinds": ["EngineVersion"]}, token=writer_token))[
        "changes"
    ]
    assert audit["changes"][0]["fieldChanges"] == [
        {"field": "architectures", "before": [], "after": sorted(gid(arch) for arch in archs)}
    ]

    # when two are removed, then the edges are tombstones naming both ends, and the version changes again
    await client.data(REMOVE, {"id": gid(version), "archs": names[:2]}, token=writer_token)
    removed = (await client.data(AUDIT, {"since": 1}, token=writer_token))["changes"]["changes"]
    assert [(c["entityKind"], c["operation"], c["entityKey"]) for c in removed] == [
        (
            "CompatibilityEdge",
            "DELETE",
            {"architecture_id": gid(archs[0]), "engine_version_id": gid(version)},
        ),
        (
            "CompatibilityEdge",
            "DELETE",
            {"architecture_id": gid(archs[1]), "engine_version_id": gid(version)},
        ),
        (
            "EngineVersion",
            "UPDATE",
            {"device_architecture": "CUDA", "engine_id": gid(vllm), "version": "0.8.0"},
        ),
    ]
    assert removed[2]["fieldChanges"] == [
        {
            "field": "architectures",
            "before": sorted(gid(arch) for arch in archs),
            "after": sorted(gid(arch) for arch in archs[2:]),
        }
    ]
    assert await client.error_codes(CHANGES, {"since": 0, "first": 101}) == ["PAGE_SIZE_EXCEEDED"]
    assert await client.error_codes(CHANGES, {"since": 0, "first": 1, "after": "zz"}) == ["INVALID_CURSOR"]
    body = await client.execute(CHANGES, {"since": 0, "first": 1, "kinds": ["Compatibility"]})
    assert [(e["extensions"], e["message"]) for e in body["errors"]] == [
        (
            {"code": "BAD_USER_INPUT", "field": "kinds"},
            "`kinds` names no entity kind of the feed: 'Compatibility' (known: Benchmark, CompatibilityEdge,"
            " Engine, EngineVersion, Hardware, HardwarePrice, License, Model, ModelArchitecture, ParserRule,"
            " Provider, ProviderModel, QuantizationSupport, UpstreamArchitecture, UpstreamDroppedArchitecture,"
            " UpstreamQuantization, UpstreamRelease)",
        )
    ]


def test_every_kind_the_feed_logs_is_a_node_of_the_schema() -> None:
    types = schema._schema.type_map
    for kind in logged_kinds():
        assert kind in NODE_KINDS, kind
        graphql_type = types.get(kind)
        assert isinstance(graphql_type, GraphQLObjectType), kind
        assert "Node" in {interface.name for interface in graphql_type.interfaces}, kind


async def test_every_id_the_feed_emits_resolves(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    # given one write of every kind an operator makes
    vllm = await factories.engine(session, "vllm")
    aws = await factories.provider(session, "aws", kind="compute_cloud")
    await session.commit()
    await client.data(EVERY_KIND, {"engine": gid(vllm), "provider": gid(aws)}, token=writer_token)

    # when a runtime fetches every id of the feed
    changes = (await client.data(CHANGES, {"since": 0, "first": 100}))["changes"]["changes"]
    kinds = {c["entityKind"] for c in changes}
    assert kinds == {
        "CompatibilityEdge",
        "EngineVersion",
        "HardwarePrice",
        "Hardware",
        "Model",
        "ModelArchitecture",
        "ParserRule",
        "Provider",
        "ProviderModel",
    }
    ids = [c["entityId"] for c in changes]
    nodes = (await client.data(NODES, {"ids": ids}))["nodes"]

    # then each resolves to an object of the kind the change names
    assert [(n["__typename"], n["id"]) for n in nodes] == [(c["entityKind"], c["entityId"]) for c in changes]


async def test_the_audit_keeps_who_when_and_the_values_before_and_after(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    gcp = await factories.provider(session, "gcp", kind="compute_cloud")
    l4 = await factories.hardware(session, "nvidia-l4")
    price = await factories.hardware_price(session, l4, gcp, "0.70", spot_per_hour=None)
    reader = await create_key(session, "dashboard", ApiKeyScope.READ)
    await session.commit()

    # when an operator changes a price
    await client.data(
        'mutation ($id: ID!) { updateHardwarePrice(id: $id, input: {onDemandPerHour: "0.81", spotPerHour: "0.3"}) { id } }',
        {"id": gid(price)},
        token=writer_token,
    )

    # then the feed says who and when, and (to key holders) the values before and after
    audit = (await client.data(AUDIT, {"since": 0}, token=reader))["changes"]["changes"]
    assert audit == [
        {
            "entityKind": "HardwarePrice",
            "entityId": gid(price),
            "entityKey": {
                "as_of": "2025-01-01",
                "hardware_id": gid(l4),
                "instance_type": "gpu.1x",
                "provider_id": gid(gcp),
                "region": "us-east-1",
            },
            "operation": "UPDATE",
            "fieldChanges": [
                {"field": "on_demand_per_hour", "before": "0.7", "after": "0.81"},
                {"field": "spot_per_hour", "before": None, "after": "0.3"},
            ],
        }
    ]
    who = (await client.data(CHANGES, {"since": 0, "first": 1}))["changes"]["changes"][0]["actor"]
    assert who == "test-writer"
    # the values are an audit trail: not for anonymous callers
    assert await client.error_codes(AUDIT, {"since": 0}) == ["UNAUTHENTICATED"]

    # a creation has every value after, a deletion every value before
    await client.data(
        "mutation ($id: ID!) { deleteHardwarePrice(id: $id) { deletedId } }",
        {"id": gid(price)},
        token=writer_token,
    )
    deleted = (await client.data(AUDIT, {"since": 1}, token=reader))["changes"]["changes"][0]
    values = {change["field"]: (change["before"], change["after"]) for change in deleted["fieldChanges"]}
    assert deleted["operation"] == "DELETE"
    assert values["on_demand_per_hour"] == ("0.81", None)
    assert values["hardware_id"] == (gid(l4), None)
    assert values["id"] == (gid(price), None)
    assert values["as_of"] == ("2025-01-01", None)


async def test_writes_in_one_transaction_fold_into_one_change_per_entity(
    sessions: Any, session: RequestSession, client: GraphQLClient
) -> None:
    kept = await factories.engine(session, "kept", "Kept")
    gone = await factories.engine(session, "gone", "Gone")
    await session.commit()

    # when one transaction creates and renames an engine, renames one twice, renames and deletes
    # another, and creates and deletes a fourth
    async with UnitOfWork(sessions, actor="ops") as uow:
        new = db.Engine(slug="new", name="First name")
        uow.session.add(new)
        await uow.session.flush()
        new.name = "Final name"
        flash = db.Engine(slug="flash", name="Flash")
        uow.session.add(flash)
        await uow.session.flush()
        await uow.session.delete(flash)
        row = await uow.session.get(db.Engine, kept.id)
        assert row is not None
        row.name = "Kept 2"
        await uow.session.flush()
        row.name = "Kept 3"
        doomed = await uow.session.get(db.Engine, gone.id)
        assert doomed is not None
        doomed.name = "Renamed before going"
        await uow.session.flush()
        await uow.session.delete(doomed)

    # then it is one version with one change per entity that outlived it
    entries = (await session.scalars(select(db.ChangeLogEntry).order_by(db.ChangeLogEntry.id))).all()
    assert [(e.registry_version, e.entity_kind, e.entity_id, e.operation, e.actor) for e in entries] == [
        (1, "Engine", kept.id, "update", "ops"),
        (1, "Engine", gone.id, "delete", "ops"),
        (1, "Engine", new.id, "create", "ops"),
    ]
    update_, delete_, create_ = entries
    assert (update_.before, update_.after) == ({"name": "Kept"}, {"name": "Kept 3"})
    assert delete_.entity_key == {"slug": "gone"}
    assert (delete_.before or {}).get("name") == "Gone"
    assert (create_.after or {}).get("name") == "Final name"
    assert create_.before is None
    assert delete_.after is None

    # and a transaction whose writes cancel out changes nothing
    async with UnitOfWork(sessions, actor="ops") as uow:
        row = await uow.session.get(db.Engine, kept.id)
        assert row is not None
        row.name = "Back and"
        await uow.session.flush()
        row.name = "Kept 3"
    assert await client.data("{ registryVersion }") == {"registryVersion": 1}


async def test_a_client_ahead_of_the_registry_or_of_another_epoch_must_resync(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    await client.data(
        'mutation { createEngine(input: {slug: "vllm", name: "vLLM"}) { id } }', token=writer_token
    )
    epoch = (await client.data("{ registryEpoch }"))["registryEpoch"]
    feed = (await client.data(CHANGES, {"since": 0, "first": 10, "epoch": epoch}))["changes"]
    assert (feed["registryVersion"], feed["registryEpoch"]) == (1, epoch)

    # a `since` beyond the registry's version (a client of a registry that was reset)
    body = await client.execute(CHANGES, {"since": 41, "first": 10})
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "RESYNC_REQUIRED", "field": "since", "registryVersion": 1, "registryEpoch": epoch}
    ]
    assert body["errors"][0]["message"] == (
        "`since` is 41, beyond the registry's version 1: the registry was reset or restored; sync from scratch"
    )

    # when the registry is recreated, a client that gives the epoch it synced in is told, even though
    # its `since` is not ahead of the new registry's version
    await session.execute(update(db.RegistryState).values(epoch=text("gen_random_uuid()")))
    await session.commit()
    fresh = (await client.data("{ registryEpoch }"))["registryEpoch"]
    assert fresh != epoch
    body = await client.execute(CHANGES, {"since": 1, "first": 10, "epoch": epoch})
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "RESYNC_REQUIRED", "field": "epoch", "registryVersion": 1, "registryEpoch": fresh}
    ]
    assert (await client.data(CHANGES, {"since": 1, "first": 10, "epoch": fresh}))["changes"]["changes"] == []
