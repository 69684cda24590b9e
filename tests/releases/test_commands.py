"""`budgraph engines import`: record and apply in one unit of work, a summary against the previous
release, one clear line on failure, and the end-to-end run on a shipped release."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import NotFound
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.releases.commands import record_and_apply, sha256_of
from budgraph.releases.importers import SOURCES
from budgraph.seeds.service import seed
from tests import factories
from tests.live import LiveServer
from tests.releases.facts import vllm


async def test_a_newer_release_applied_to_its_builds_is_summarised_against_the_previous(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    engine = await factories.engine(session, "vllm")
    await factories.version(session, engine, "0.8.5", "CUDA")
    await factories.version(session, engine, "0.8.5", "ROCM")
    await session.commit()
    async with UnitOfWork(sessions, actor="cli") as uow:
        await record_and_apply(uow.session, vllm("0.8.0"), None, None)

    async with UnitOfWork(sessions, actor="cli") as uow:
        summary = await record_and_apply(
            uow.session, vllm("0.8.5", with_mamba=True, drop_mpt=True), "0.8.5", ["CUDA"], "ab" * 32
        )

    assert summary.lines() == [
        "vllm 0.8.5 (vllm-0.8.5.tar.gz): recorded",
        "  architectures  6 (vs 0.8.0: +1 -1)",
        "    added    MambaForCausalLM",
        "    removed  MPTForCausalLM",
        "  dropped        MPTForCausalLM",
        "  quantization   awq (CUDA >= 7.5), fp8 (CUDA >= 8.9), fp8 (ROCM), gguf (CUDA >= 6.0), gptq (CUDA >= 6.0)",
        "  new in the registry: MambaForCausalLM",
        "  applied to 0.8.5 (CUDA): +6 -0 architectures, quantization awq, fp8, gguf, gptq",
        "  registry unchanged",
    ]
    cuda = await session.scalar(
        select(db.EngineVersion).where(db.EngineVersion.device_architecture == "CUDA")
    )
    rocm = await session.scalar(
        select(db.EngineVersion).where(db.EngineVersion.device_architecture == "ROCM")
    )
    assert cuda is not None
    assert rocm is not None
    await session.refresh(cuda)
    await session.refresh(rocm)
    assert cuda.upstream_release_id == summary.record.release.id
    assert rocm.upstream_release_id is None
    release = await session.get(db.UpstreamRelease, summary.record.release.id)
    assert release is not None
    assert release.artifact_sha256 == "ab" * 32


async def test_applying_to_a_build_that_does_not_exist_records_nothing(
    session: RequestSession, sessions: async_sessionmaker[RequestSession]
) -> None:
    await factories.engine(session, "vllm")
    await session.commit()
    with pytest.raises(NotFound, match=re.escape("vllm has no version '0.9.0' to apply the release to")):
        async with UnitOfWork(sessions, actor="cli") as uow:
            await record_and_apply(uow.session, vllm("0.8.0"), "0.9.0", None)
    assert await session.scalar(select(db.UpstreamRelease.id)) is None


def test_the_artifacts_digest_is_its_sha256(tmp_path: Path) -> None:
    artifact = tmp_path / "vllm-0.8.0.tar.gz"
    artifact.write_bytes(b"release")
    assert sha256_of(artifact) == hashlib.sha256(b"release").hexdigest()
    assert sha256_of(tmp_path) is None


def test_a_missing_artifact_is_one_line_and_a_failure(
    live: LiveServer, live_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "BUDGRAPH_DATABASE_URL": live_url}
    missing = tmp_path / "vllm-9.9.9.tar.gz"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "budgraph",
            "engines",
            "import",
            "vllm",
            "--version",
            "9.9.9",
            "--from",
            str(missing),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip().splitlines()[-1]
        == f"budgraph engines import: {missing}: no such file or directory"
    )
    assert "Traceback" not in done.stderr


def _import(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "budgraph", "engines", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


async def test_importing_a_shipped_release_end_to_end_serves_a_rocm_runtime(
    live: LiveServer, live_url: str
) -> None:
    # given the registry seeded without any release recorded (the seed's builds of vLLM 0.9.1 name it)
    engine = create_async_engine(live_url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="seed") as uow:
            await seed(uow.session, releases_file=None)
    finally:
        await engine.dispose()
    env = {**os.environ, "BUDGRAPH_DATABASE_URL": live_url}
    rocm_slice = """{ compatibleEngineVersions(model: "Qwen/Qwen2.5-7B-Instruct", architecture: "Qwen2ForCausalLM",
        deviceArchitecture: ROCM) { nodes { engineVersion { version quantizationSupport { method } }
        containerImage } } }"""

    def rocm_answer() -> list[dict[str, object]]:
        answer = httpx.post(f"{live.http}/graphql", json={"query": rocm_slice}, timeout=30).json()
        nodes: list[dict[str, object]] = answer["data"]["compatibleEngineVersions"]["nodes"]
        return nodes

    assert rocm_answer() == []  # no release recorded: the 0.9.1 ROCm build claims nothing yet

    # when an operator imports vLLM 0.9.1 from its shipped source tree and applies it to its builds
    source = SOURCES / "vllm" / "0.9.1"
    done = _import(env, "vllm", "--version", "0.9.1", "--from", str(source), "--apply-to", "0.9.1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "vllm 0.9.1 (vllm-0.9.1-cp38-abi3-manylinux1_x86_64.whl): recorded"
    assert lines[1] == "  architectures  149 (first recorded release: +149 -0)"
    applied = [line for line in lines if line.startswith("  applied to ")]
    methods = "awq, compressed-tensors, fbgemm_fp8, fp8, gguf, gptq, ptpc_fp8, quark"
    assert f"  applied to 0.9.1 (ROCM): +149 -0 architectures, quantization {methods}" in applied
    assert any(line.startswith("  applied to 0.9.1 (CUDA): +149 -0 architectures") for line in applied)

    # then the ROCm runtime's slice answers with AMD's image and what ROCm allows
    (node,) = rocm_answer()
    assert node["containerImage"] == "rocm/vllm:rocm6.4.1_vllm_0.9.1_20250715"
    version = node["engineVersion"]
    assert isinstance(version, dict)
    assert sorted(row["method"] for row in version["quantizationSupport"]) == [
        "awq",
        "compressed-tensors",
        "fbgemm_fp8",
        "fp8",
        "gguf",
        "gptq",
        "ptpc_fp8",
        "quark",
    ]

    # and importing the same release again changes nothing
    again = _import(env, "vllm", "--version", "0.9.1", "--from", str(source), "--apply-to", "0.9.1")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "  registry unchanged"
