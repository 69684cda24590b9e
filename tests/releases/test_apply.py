"""An engine version that packages an upstream release derives its compatibility from it, and an
operator's edits win when the release is applied again."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.compatibility import service as compatibility
from budgraph.db.base import Origin
from budgraph.engines import service as engines
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.releases import service
from budgraph.releases.facts import ReleaseFacts
from tests import factories
from tests.releases.facts import vllm


async def _record(sessions: async_sessionmaker[RequestSession], facts: ReleaseFacts) -> int:
    async with UnitOfWork(sessions, actor="import") as uow:
        return (await service.record_release(uow.session, facts)).release.id


async def _apply(
    sessions: async_sessionmaker[RequestSession], version_id: int, release_id: int
) -> service.ApplyReport:
    async with UnitOfWork(sessions, actor="import") as uow:
        version = await uow.session.get(db.EngineVersion, version_id)
        release = await uow.session.get(db.UpstreamRelease, release_id)
        assert version is not None
        assert release is not None
        return await service.apply_release(uow.session, version, release)


async def _edges(session: RequestSession, version_id: int) -> dict[str, str]:
    rows = await session.execute(
        select(db.ModelArchitecture.class_name, db.CompatibilityEdge.origin)
        .join(db.CompatibilityEdge, db.CompatibilityEdge.architecture_id == db.ModelArchitecture.id)
        .where(db.CompatibilityEdge.engine_version_id == version_id)
    )
    return dict(sorted(rows.all()))  # type: ignore[arg-type]


async def _quantization(session: RequestSession, version_id: int) -> dict[str, tuple[str | None, str]]:
    rows = await session.scalars(
        select(db.QuantizationSupport).where(db.QuantizationSupport.engine_version_id == version_id)
    )
    return {
        row.method: (row.min_compute_capability, row.origin) for row in sorted(rows, key=lambda r: r.method)
    }


async def _registry_version(session: RequestSession) -> int:
    return int(await session.scalar(select(db.RegistryState.version)))


async def _given_a_seeded_cuda_build(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> tuple[int, int]:
    """vLLM 0.8.0 for CUDA as the seed wrote it (edges of origin `seed`, one the release lacks),
    with an operator's own edge; the release recorded."""
    vllm_engine = await factories.engine(session, "vllm")
    version = await factories.version(session, vllm_engine, "0.8.0", origin=Origin.SEED.value)
    for name, origin in [
        ("LlamaForCausalLM", "seed"),
        ("GPTBigCodeForCausalLM", "seed"),
        ("MyOwnForCausalLM", "api"),
    ]:
        arch = await factories.architecture(session, name)
        session.add(
            db.CompatibilityEdge(engine_version_id=version.id, architecture_id=arch.id, origin=origin)
        )
    await session.commit()
    return version.id, await _record(sessions, vllm("0.8.0"))


async def test_a_version_packaging_a_release_serves_what_the_release_declares(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    version_id, release_id = await _given_a_seeded_cuda_build(session, sessions)

    # when the version is pointed at the release
    report = await _apply(sessions, version_id, release_id)

    # then its edges are the release's (the seed's extra edge gone), the operator's edge stays
    assert await _edges(session, version_id) == {
        "BertModel": "release",
        "LlamaForCausalLM": "seed",
        "MPTForCausalLM": "release",
        "MixtralForCausalLM": "release",
        "MyOwnForCausalLM": "api",
        "Qwen2ForCausalLM": "release",
        "Qwen2VLForConditionalGeneration": "release",
    }
    assert report.edges_removed == ["GPTBigCodeForCausalLM"]
    # its endpoints are those its architectures serve; its quantization the release's for CUDA
    version = await session.get(db.EngineVersion, version_id)
    assert version is not None
    await session.refresh(version)
    assert version.upstream_release_id == release_id
    assert version.endpoints == ["CHAT", "COMPLETION", "EMBEDDING"]
    assert await _quantization(session, version_id) == {
        "awq": ("7.5", "release"),
        "fp8": ("8.9", "release"),
        "gguf": ("6.0", "release"),
        "gptq": ("6.0", "release"),
    }
    fp8 = await session.scalar(select(db.QuantizationSupport).where(db.QuantizationSupport.method == "fp8"))
    assert fp8 is not None
    assert (fp8.source_file, fp8.source_symbol, fp8.source_url) == (
        "vllm/model_executor/layers/quantization/fp8.py",
        "Fp8Config.get_min_capability",
        "https://pypi.org/project/vllm/0.8.0/",
    )

    # when it is applied again, then nothing changes (the registry version stays)
    before = await _registry_version(session)
    again = await _apply(sessions, version_id, release_id)
    assert (again.edges_added, again.edges_removed, again.quantization_written) == ([], [], [])
    assert await _registry_version(session) == before


async def test_an_operators_edits_survive_re_applying_the_release(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    version_id, release_id = await _given_a_seeded_cuda_build(session, sessions)
    await _apply(sessions, version_id, release_id)

    # given an operator who removes Qwen2 and awq, sets the endpoints and raises fp8's minimum
    async with UnitOfWork(sessions, actor="ann") as uow:
        version = await uow.session.get(db.EngineVersion, version_id)
        assert version is not None
        await compatibility.remove_architectures(uow.session, version, ["Qwen2ForCausalLM"])
        awq = await uow.session.scalar(
            select(db.QuantizationSupport).where(db.QuantizationSupport.method == "awq")
        )
        assert awq is not None
        await service.delete_support(uow.session, awq)
        await engines.update_version(uow.session, version, {"endpoints": ["CHAT"]})
        await service.set_support(
            uow.session, version, service.SupportInput("fp8", "9.0", ("bfloat16",), "ops note", None)
        )

    # when the release is applied again
    await _apply(sessions, version_id, release_id)

    # then every edit holds: Qwen2 and awq stay out, the endpoints and the operator's fp8 row stay
    edges = await _edges(session, version_id)
    assert "Qwen2ForCausalLM" not in edges
    assert edges["MyOwnForCausalLM"] == "api"
    assert await _quantization(session, version_id) == {
        "fp8": ("9.0", "api"),
        "gguf": ("6.0", "release"),
        "gptq": ("6.0", "release"),
    }
    version = await session.get(db.EngineVersion, version_id)
    assert version is not None
    await session.refresh(version)
    assert version.endpoints == ["CHAT"]
    assert (version.withdrawn_architectures, version.withdrawn_quantization) == (
        ["Qwen2ForCausalLM"],
        ["awq"],
    )

    # when the operator adds Qwen2 back, then it is no longer withdrawn
    async with UnitOfWork(sessions, actor="ann") as uow:
        version = await uow.session.get(db.EngineVersion, version_id)
        assert version is not None
        await compatibility.add_architectures(uow.session, version, ["Qwen2ForCausalLM"])
    restored = await session.get(db.EngineVersion, version_id)
    assert restored is not None
    await session.refresh(restored)
    assert restored.withdrawn_architectures == []


async def test_pointing_a_version_at_a_newer_release_follows_it(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    version_id, release_id = await _given_a_seeded_cuda_build(session, sessions)
    await _apply(sessions, version_id, release_id)
    newer = await _record(sessions, vllm("0.8.5", with_mamba=True, drop_mpt=True))

    report = await _apply(sessions, version_id, newer)

    assert (report.edges_added, report.edges_removed) == (["MambaForCausalLM"], ["MPTForCausalLM"])
    edges = await _edges(session, version_id)
    assert "MPTForCausalLM" not in edges
    assert edges["MambaForCausalLM"] == "release"
    # the older release still declares MPT
    older = await session.scalars(
        select(db.ModelArchitecture.class_name)
        .join(db.UpstreamArchitecture, db.UpstreamArchitecture.architecture_id == db.ModelArchitecture.id)
        .where(db.UpstreamArchitecture.release_id == release_id)
    )
    assert "MPTForCausalLM" in older.all()


async def test_a_release_of_another_engine_is_refused(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    version_id, _ = await _given_a_seeded_cuda_build(session, sessions)
    await factories.engine(session, "sglang")
    await session.commit()
    other = ReleaseFacts("sglang", "0.4.6", "sglang-0.4.6.tar.gz", vllm().architectures[:1], (), ())
    release_id = await _record(sessions, other)
    before = await _registry_version(session)
    with pytest.raises(BudgraphError, match="the upstream release is of another engine than the version"):
        await _apply(sessions, version_id, release_id)
    assert await _registry_version(session) == before
