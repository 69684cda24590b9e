"""Recording upstream releases: idempotent, newer releases beside older ones, rows with sources."""

from __future__ import annotations

import dataclasses
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.releases import service
from budgraph.releases.errors import ReleaseFactsError
from budgraph.releases.facts import QuantizationFact, SourceRef
from tests import factories
from tests.releases.facts import vllm


async def _registry_version(session: RequestSession) -> int:
    return int(await session.scalar(select(db.RegistryState.version)))


async def _changes(session: RequestSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(db.ChangeLogEntry)))


async def _record(sessions: async_sessionmaker[RequestSession], facts: object) -> service.ReleaseRecord:
    async with UnitOfWork(sessions, actor="import") as uow:
        return await service.record_release(uow.session, facts)  # type: ignore[arg-type]


async def test_recording_a_release_records_every_fact_with_its_source(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    # given vLLM, whose registry knows one architecture of the release
    await factories.engine(session, "vllm")
    await factories.architecture(session, "LlamaForCausalLM", family="llama")
    await session.commit()
    version_before = await _registry_version(session)

    # when vLLM 0.8.0 is recorded
    record = await _record(sessions, vllm("0.8.0"))

    # then the release, its architectures and its quantization are rows, each saying where it came from
    assert record.created
    assert record.changed
    assert record.architectures_created == (
        "Qwen2ForCausalLM",
        "MixtralForCausalLM",
        "Qwen2VLForConditionalGeneration",
        "BertModel",
        "MPTForCausalLM",
    )
    release = await session.get(db.UpstreamRelease, record.release.id)
    assert release is not None
    assert (release.version, release.artifact, release.origin, release.source, release.source_url) == (
        "0.8.0",
        "vllm-0.8.0.tar.gz",
        "release",
        "upstream release vllm 0.8.0 (vllm-0.8.0.tar.gz)",
        "https://pypi.org/project/vllm/0.8.0/",
    )
    rows = (
        await session.execute(
            select(db.ModelArchitecture.class_name, db.UpstreamArchitecture)
            .join(db.UpstreamArchitecture, db.UpstreamArchitecture.architecture_id == db.ModelArchitecture.id)
            .order_by(db.ModelArchitecture.class_name)
        )
    ).all()
    bert = next(row for name, row in rows if name == "BertModel")
    assert (bert.task, bert.endpoints, bert.supports_pipeline_parallelism, bert.supports_lora) == (
        "embedding",
        ["EMBEDDING"],
        False,
        None,
    )
    assert (bert.source_file, bert.source_symbol) == (
        "vllm/model_executor/models/registry.py",
        "_EMBEDDING_MODELS['BertModel']",
    )
    assert all(row.source_url == "https://pypi.org/project/vllm/0.8.0/" for _, row in rows)
    fp8 = (
        await session.scalars(
            select(db.UpstreamQuantization)
            .where(db.UpstreamQuantization.method == "fp8")
            .order_by("device_architecture")
        )
    ).all()
    assert [(row.device_architecture, row.min_compute_capability) for row in fp8] == [
        ("CUDA", "8.9"),
        ("ROCM", None),
    ]
    created = await session.scalar(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name == "BertModel")
    )
    assert created is not None
    assert (created.origin, created.source) == (
        "release",
        "upstream release vllm 0.8.0 (vllm-0.8.0.tar.gz)",
    )
    # one registry version for the whole import, with a change per row
    assert await _registry_version(session) == version_before + 1
    kinds = (
        await session.execute(
            select(db.ChangeLogEntry.entity_kind, func.count())
            .where(db.ChangeLogEntry.registry_version == version_before + 1)
            .group_by(db.ChangeLogEntry.entity_kind)
            .order_by(db.ChangeLogEntry.entity_kind)
        )
    ).all()
    assert [tuple(kind) for kind in kinds] == [
        ("ModelArchitecture", 5),
        ("UpstreamArchitecture", 6),
        ("UpstreamQuantization", 5),
        ("UpstreamRelease", 1),
    ]


async def test_recording_the_same_release_again_changes_nothing(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    # given vLLM 0.8.0 recorded
    await factories.engine(session, "vllm")
    await session.commit()
    first = await _record(sessions, vllm("0.8.0"))
    version, changes = await _registry_version(session), await _changes(session)

    # when the same release is recorded again (spelled `0.8` this time)
    again = await _record(sessions, dataclasses.replace(vllm("0.8.0"), version="0.8"))

    # then it is the same release, nothing changed: no change rows, the same registry version
    assert (again.release.id, again.created, again.changed) == (first.release.id, False, False)
    assert await _registry_version(session) == version
    assert await _changes(session) == changes


async def test_a_newer_release_is_added_and_leaves_the_older_intact(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    # given vLLM 0.8.0 recorded
    await factories.engine(session, "vllm")
    await session.commit()
    older = await _record(sessions, vllm("0.8.0"))
    older_rows = await _declared(session, older.release.id)

    # when 0.8.5 is recorded, which adds Mamba and drops MPT
    newer = await _record(sessions, vllm("0.8.5", with_mamba=True, drop_mpt=True))

    # then it is a second release, and the older one still declares what it did
    assert newer.created
    assert newer.release.id != older.release.id
    assert await _declared(session, older.release.id) == older_rows
    assert "MPTForCausalLM" in older_rows
    diff = await service.diff_with_previous(session, newer.release)
    assert diff == service.ReleaseDiff(
        previous="0.8.0",
        added=("MambaForCausalLM",),
        removed=("MPTForCausalLM",),
        dropped=("MPTForCausalLM",),
        quantization=(
            "awq (CUDA >= 7.5)",
            "fp8 (CUDA >= 8.9)",
            "fp8 (ROCM)",
            "gguf (CUDA >= 6.0)",
            "gptq (CUDA >= 6.0)",
        ),
    )


async def test_a_re_import_with_changed_facts_updates_only_what_changed(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    # given vLLM 0.8.0 recorded
    await factories.engine(session, "vllm")
    await session.commit()
    await _record(sessions, vllm("0.8.0"))
    version = await _registry_version(session)

    # when a corrected import says fp8 needs 9.0 on CUDA and no longer lists MPT
    facts = vllm("0.8.0", drop_mpt=True)
    quantization = tuple(
        dataclasses.replace(q, min_compute_capability="9.0")
        if (q.method, q.device_architecture) == ("fp8", "CUDA")
        else q
        for q in facts.quantization
    )
    record = await _record(sessions, dataclasses.replace(facts, quantization=quantization))

    # then one version: fp8 updated, MPT's row deleted, the dropped row created
    assert record.changed
    assert await _registry_version(session) == version + 1
    logged = (
        await session.execute(
            select(
                db.ChangeLogEntry.entity_kind, db.ChangeLogEntry.operation, db.ChangeLogEntry.changed_fields
            )
            .where(db.ChangeLogEntry.registry_version == version + 1)
            .order_by(db.ChangeLogEntry.entity_kind)
        )
    ).all()
    assert [tuple(row) for row in logged] == [
        ("UpstreamArchitecture", "delete", sorted(logged[0][2])),
        ("UpstreamDroppedArchitecture", "create", sorted(logged[1][2])),
        ("UpstreamQuantization", "update", ["min_compute_capability"]),
    ]


async def _declared(session: RequestSession, release_id: int) -> list[str]:
    rows = await session.scalars(
        select(db.ModelArchitecture.class_name)
        .join(db.UpstreamArchitecture, db.UpstreamArchitecture.architecture_id == db.ModelArchitecture.id)
        .where(db.UpstreamArchitecture.release_id == release_id)
        .order_by(db.ModelArchitecture.class_name)
    )
    return list(rows.all())


async def test_bad_facts_are_refused_and_change_nothing(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    await factories.engine(session, "vllm")
    await session.commit()
    version = await _registry_version(session)
    bad_capability = dataclasses.replace(
        vllm("0.8.0"),
        quantization=(
            QuantizationFact("fp8", "CUDA", "8.9.1", ("bfloat16",), SourceRef("a", "0.8.0", "f.py", "s")),
        ),
    )
    with pytest.raises(
        ReleaseFactsError, match=re.escape("fp8: minimum compute capability '8.9.1' is not major.minor")
    ):
        await _record(sessions, bad_capability)
    with pytest.raises(NotFound, match="no engine 'tgi'"):
        await _record(sessions, dataclasses.replace(vllm("0.8.0"), engine="tgi"))
    with pytest.raises(BudgraphError, match="is not a PEP 440 or semver version"):
        await _record(sessions, dataclasses.replace(vllm("0.8.0"), version="latest"))
    bad_endpoint = vllm("0.8.0")
    arch = dataclasses.replace(bad_endpoint.architectures[0], endpoints=("CHAT", "SPEAK"))
    with pytest.raises(ReleaseFactsError, match="LlamaForCausalLM: unknown endpoints SPEAK"):
        await _record(sessions, dataclasses.replace(bad_endpoint, architectures=(arch,)))
    assert await _registry_version(session) == version
    assert await session.scalar(select(func.count()).select_from(db.UpstreamRelease)) == 0
