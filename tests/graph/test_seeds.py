"""Seeding: the reference facts land, twice changes nothing, operator edits survive."""

from __future__ import annotations

from sqlalchemy import func, select

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.releases import shipped_facts
from budgraph.seeds.files import records
from budgraph.seeds.service import seed
from tests.conftest import GraphQLClient


async def _seed(session: RequestSession) -> tuple[dict[str, int], int | None]:
    from budgraph.registry.recorder import record_changes

    report = await seed(session)
    version = await record_changes(session, "seed")
    await session.commit()
    return dict(report.created) | {f"updated:{k}": v for k, v in report.updated.items()}, version


async def _count(session: RequestSession, table: type) -> int:
    return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_seed_loads_the_reference_facts(session: RequestSession) -> None:
    created, version = await _seed(session)
    assert version == 1
    # 361 from the architecture file, and each further one a shipped release's code serves
    shipped = {a.class_name for s in shipped_facts.load() for a in s.facts.architectures}
    listed = {record["class_name"] for record in records("architectures")}
    assert len(listed) == 361
    assert created["ModelArchitecture"] == len(listed | shipped) == 600
    assert await _count(session, db.ModelArchitecture) == len(listed | shipped)
    assert created["UpstreamRelease"] == len(shipped_facts.load()) == 11
    assert await _count(session, db.ParserRule) == 63  # 61 upstream + 2 base ids (corrections.json)
    assert await _count(session, db.Hardware) >= 20
    devices = set((await session.scalars(select(db.Hardware.device_architecture).distinct())).all())
    assert devices == {"CUDA", "ROCM", "HPU", "CPU"}
    assert await _count(session, db.HardwarePrice) >= 20
    assert await _count(session, db.ProviderModel) > 1000
    # the predecessor rated CC0 "Fully Proprietary"; ours is right
    cc0 = await session.scalar(select(db.License).where(db.License.key == "cc0-1.0"))
    assert cc0 is not None
    assert (cc0.kind, cc0.commercial_use) == ("permissive", True)
    nc = await session.scalar(select(db.License).where(db.License.key == "cc-by-nc-4.0"))
    assert nc is not None
    assert nc.commercial_use is False
    # every seeded fact says where it came from
    for table in (
        db.Engine,
        db.EngineVersion,
        db.ModelArchitecture,
        db.ParserRule,
        db.License,
        db.Provider,
        db.ProviderModel,
        db.Hardware,
        db.HardwarePrice,
    ):
        unsourced = await session.scalar(
            select(func.count())
            .select_from(table)
            .where((table.source.is_(None)) | (table.source_url.is_(None)))
        )
        assert unsourced == 0, table.__name__
    vllm_cuda = await session.scalar(
        select(db.EngineVersion).where(
            db.EngineVersion.version == "0.8.0", db.EngineVersion.device_architecture == "CUDA"
        )
    )
    assert vllm_cuda is not None
    assert vllm_cuda.container_image == "budstudio/vllm-cuda:0.8.0"
    edges = await session.scalar(
        select(func.count())
        .select_from(db.CompatibilityEdge)
        .where(db.CompatibilityEdge.engine_version_id == vllm_cuda.id)
    )
    # what vLLM 0.8.0's own registry declares, not the predecessor's 361-name list
    assert edges == 121


async def test_seeding_twice_changes_nothing(session: RequestSession) -> None:
    await _seed(session)
    changes = await _count(session, db.ChangeLogEntry)
    created, version = await _seed(session)
    assert created == {}
    assert version is None
    assert await _count(session, db.ChangeLogEntry) == changes


UPDATE_VERSION = """
mutation ($id: ID!) { updateEngineVersion(id: $id, input: {containerImage: "registry.local/vllm:0.8.0"}) { id } }
"""
REMOVE = """
mutation ($id: ID!) { removeCompatibility(engineVersionId: $id, architectures: ["LlamaForCausalLM"]) { id } }
"""
DISABLE_RULE = "mutation ($id: ID!) { updateParserRule(id: $id, input: {enabled: false}) { enabled } }"


async def test_reseeding_keeps_operator_edits(
    session: RequestSession, client: GraphQLClient, writer_token: str, sessions: object
) -> None:
    await _seed(session)
    version = await session.scalar(
        select(db.EngineVersion).where(
            db.EngineVersion.version == "0.8.0", db.EngineVersion.device_architecture == "CUDA"
        )
    )
    rule = await session.scalar(select(db.ParserRule).where(db.ParserRule.pattern == "Qwen/QwQ-32B"))
    assert version is not None
    assert rule is not None
    version_id = to_global_id("EngineVersion", version.id)
    await client.data(UPDATE_VERSION, {"id": version_id}, token=writer_token)
    await client.data(REMOVE, {"id": version_id}, token=writer_token)
    await client.data(DISABLE_RULE, {"id": to_global_id("ParserRule", rule.id)}, token=writer_token)

    session.expire_all()
    await _seed(session)

    await session.refresh(version)
    await session.refresh(rule)
    assert version.container_image == "registry.local/vllm:0.8.0"
    assert sorted(version.edited_fields) == ["architectures", "container_image"]
    assert rule.enabled is False
    llama = await session.scalar(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name == "LlamaForCausalLM")
    )
    assert llama is not None
    edge = await session.scalar(
        select(db.CompatibilityEdge).where(
            db.CompatibilityEdge.engine_version_id == version.id,
            db.CompatibilityEdge.architecture_id == llama.id,
        )
    )
    assert edge is None


async def test_seed_job_runs_in_a_unit_of_work(sessions: object) -> None:
    async with UnitOfWork(sessions, actor="seed") as uow:  # type: ignore[arg-type]
        report = await seed(uow.session)
    assert uow.version == 1
    assert report.created["Engine"] == 6
