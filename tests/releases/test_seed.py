"""The curated seed rows of builds and quantization, and the consistency check the seed runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.registry.recorder import record_changes
from budgraph.releases import service, shipped_facts
from budgraph.seeds.files import records
from budgraph.seeds.service import SeedInconsistent, seed
from tests.conftest import GraphQLClient
from tests.releases.facts import vllm

GAUDI_IMAGE = (
    "vault.habana.ai/gaudi-docker/1.24.1/ubuntu24.04/habanalabs/vllm-0.26.0-ptupstream-2.11.0:latest"
)
GAUDI_DOCS = "https://github.com/vllm-project/vllm-gaudi/blob/b059f9c95d6a07f19eb00aa06d1ec8b87b296437/docs"
LLAMACPP_IMAGES = "ghcr.io/ggml-org/llama.cpp"
LLAMACPP_REPO = "https://github.com/ggml-org/llama.cpp"
# the llama.cpp commits llama-cpp-python 0.3.35 and 0.3.36 vendor, whose docker.yml names the images
LLAMACPP_COMMITS = {
    "0.3.35": "4df29be4f4c3673f428170fda944a5b19f743bb8",
    "0.3.36": "0c1e57098bba43ac29e6e3b677cdceebdd22334f",
}

COMPATIBLE_ON_HPU = """
query ($architecture: String!) {
  compatibleEngineVersions(architecture: $architecture, deviceArchitecture: HPU) {
    nodes { engineVersion { version deviceArchitecture engine { slug } upstreamRelease { version } }
            containerImage }
  }
}
"""


LATEST_LLAMACPP = """
query ($device: DeviceArchitecture) {
  latestEngineVersion(engine: "llamacpp", deviceArchitecture: $device) { version containerImage }
}
"""

COMPATIBLE_LLAMACPP = """
query ($architecture: String!, $device: DeviceArchitecture) {
  compatibleEngineVersions(architecture: $architecture, engine: "llamacpp", deviceArchitecture: $device) {
    nodes { engineVersion { version deviceArchitecture upstreamRelease { version } } containerImage }
  }
}
"""


def shipped_names(engine: str, version: str) -> set[str]:
    (found,) = [s for s in shipped_facts.load() if (s.facts.engine, s.facts.version) == (engine, version)]
    return {arch.class_name for arch in found.facts.architectures}


async def _version(session: RequestSession, engine: str, number: str, device: str) -> db.EngineVersion:
    found = await session.scalar(
        select(db.EngineVersion)
        .join(db.Engine, db.Engine.id == db.EngineVersion.engine_id)
        .where(
            db.Engine.slug == engine,
            db.EngineVersion.version == number,
            db.EngineVersion.device_architecture == device,
        )
    )
    assert found is not None, (engine, number, device)
    return found


async def _edges(session: RequestSession, version: db.EngineVersion) -> list[str]:
    rows = await session.scalars(
        select(db.ModelArchitecture.class_name)
        .join(db.CompatibilityEdge, db.CompatibilityEdge.architecture_id == db.ModelArchitecture.id)
        .where(db.CompatibilityEdge.engine_version_id == version.id)
        .order_by(db.ModelArchitecture.class_name)
    )
    return list(rows.all())


async def test_the_seed_has_curated_builds_and_quantization_each_with_its_source(
    session: RequestSession,
) -> None:
    await seed(session)

    trt = await _version(session, "tensorrt-llm", "1.0.0", "CUDA")
    assert trt.container_image == "nvcr.io/nvidia/tensorrt-llm/release:1.0.0"
    assert await _edges(session, trt) == [
        "DeepseekV3ForCausalLM",
        "Gemma3ForCausalLM",
        "LlamaForCausalLM",
        "MistralForCausalLM",
        "MixtralForCausalLM",
        "Qwen2ForCausalLM",
    ]
    rows = (
        await session.scalars(
            select(db.QuantizationSupport).where(db.QuantizationSupport.engine_version_id == trt.id)
        )
    ).all()
    assert sorted((row.method, row.min_compute_capability, row.origin) for row in rows) == [
        ("fp8", "8.9", "seed"),
        ("nvfp4", "10.0", "seed"),
        ("w4a16_awq", "8.0", "seed"),
        ("w4a8_awq", "8.9", "seed"),
        ("w8a8_sq_per_channel", "8.0", "seed"),
    ]
    assert all(row.source and row.source_url and row.source_url.startswith("https://") for row in rows)
    rocm = await _version(session, "vllm", "0.8.5", "ROCM")
    assert rocm.container_image == "rocm/vllm:rocm6.3.1_vllm_0.8.5_20250513"
    assert rocm.source_url is not None
    # each vLLM build derives from the shipped release its image packages, nothing more
    for number, device in (("0.8.5", "ROCM"), ("0.8.5", "CUDA"), ("0.9.1", "ROCM"), ("0.8.0", "CUDA")):
        build = await _version(session, "vllm", number, device)
        release = await session.get(db.UpstreamRelease, build.upstream_release_id)
        assert release is not None
        assert release.version == number
        assert await _edges(session, build) == sorted(shipped_names("vllm", number)), (number, device)
    # the predecessor's 361-name list is gone: 0.8.0 serves what vLLM 0.8.0's registry declares
    assert len(await _edges(session, await _version(session, "vllm", "0.8.0", "CUDA"))) == 121
    assert await service.inconsistencies(session) == []
    unsourced = await session.scalar(
        select(func.count())
        .select_from(db.EngineVersion)
        .where(db.EngineVersion.source.is_(None) | db.EngineVersion.source_url.is_(None))
    )
    assert unsourced == 0


async def test_a_build_naming_a_recorded_release_derives_from_it_and_reseeding_changes_nothing(
    session: RequestSession,
) -> None:
    # given the seed and vLLM 0.8.5 recorded (as the importers' seed records it)
    await seed(session, releases_file=None)
    await service.record_release(session, vllm("0.8.5", with_mamba=True, drop_mpt=True))
    await record_changes(session, "seed")

    # when the seed runs again
    await seed(session, releases_file=None)
    await record_changes(session, "seed")

    # then both 0.8.5 builds package the release: its architectures, and each device's quantization
    cuda = await _version(session, "vllm", "0.8.5", "CUDA")
    rocm = await _version(session, "vllm", "0.8.5", "ROCM")
    release = await session.scalar(select(db.UpstreamRelease).where(db.UpstreamRelease.version == "0.8.5"))
    assert release is not None
    assert (cuda.upstream_release_id, rocm.upstream_release_id) == (release.id, release.id)
    assert "MambaForCausalLM" in await _edges(session, rocm)
    assert "MPTForCausalLM" not in await _edges(session, rocm)
    rocm_methods = await session.scalars(
        select(db.QuantizationSupport.method).where(db.QuantizationSupport.engine_version_id == rocm.id)
    )
    assert list(rocm_methods.all()) == ["fp8"]
    assert await service.inconsistencies(session) == []

    # and a third seed changes nothing
    assert await record_changes(session, "seed") is None
    await seed(session, releases_file=None)
    assert await record_changes(session, "seed") is None


async def test_the_check_names_claims_beyond_the_release_and_rows_without_a_source(
    session: RequestSession,
) -> None:
    await seed(session, releases_file=None)
    release = (await service.record_release(session, vllm("0.8.5"))).release
    rocm = await _version(session, "vllm", "0.8.5", "ROCM")
    await service.apply_release(session, rocm, release)
    gpt2 = await session.scalar(
        select(db.ModelArchitecture).where(db.ModelArchitecture.class_name == "GPT2LMHeadModel")
    )
    assert gpt2 is not None
    # a seeded edge the release does not declare, and one without its source
    session.add(
        db.CompatibilityEdge(engine_version_id=rocm.id, architecture_id=gpt2.id, origin="seed", source="x")
    )
    await session.flush()
    assert await service.inconsistencies(session) == [
        "1 compatibility edges of vllm 0.8.5 (ROCM) have no source",
        "vllm 0.8.5 (ROCM) claims GPT2LMHeadModel, which its upstream release 0.8.5 does not declare",
    ]
    # re-seeding re-applies the release, which removes the seeded claim it does not back
    await seed(session, releases_file=None)
    assert "GPT2LMHeadModel" not in await _edges(session, rocm)
    # a seeded edge without a source that nothing re-derives stops the seed
    trt = await _version(session, "tensorrt-llm", "1.0.0", "CUDA")
    session.add(db.CompatibilityEdge(engine_version_id=trt.id, architecture_id=gpt2.id, origin="seed"))
    await session.flush()
    with pytest.raises(
        SeedInconsistent, match=r"1 compatibility edges of tensorrt-llm 1\.0\.0 \(CUDA\) have no source"
    ):
        await seed(session, releases_file=None)


def test_each_curated_build_names_seeded_architectures_or_the_release_it_packages() -> None:
    # Builds are seeded before releases record their architectures, so a build can only list a class
    # the architecture file seeds; one it does not would be dropped without a word.
    seeded = {record["class_name"] for record in records("architectures")}
    for build in records("engine_builds"):
        key = (build["engine"], build["version"], build["device_architecture"])
        assert build["source"], key
        assert build["source_url"].startswith("https://"), key
        assert set(build["architectures"]) <= seeded, (key, set(build["architectures"]) - seeded)
        # a build either packages a shipped release or lists what it serves, never neither
        assert (build["upstream_release"] is None) == bool(build["architectures"]), key


async def test_the_hpu_build_is_the_gaudi_plugins_image_with_its_validated_architectures(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given the seed
    await seed(session)
    await session.commit()

    # then vLLM on Gaudi is the plugin's quick-start image of vLLM 0.26.0, serving the architectures of
    # its validated models; vLLM 0.26.0 is no shipped release, so none derives it
    gaudi = await _version(session, "vllm", "0.26.0", "HPU")
    assert gaudi.container_image == GAUDI_IMAGE
    assert gaudi.upstream_release_id is None
    assert gaudi.endpoints == ["CHAT", "COMPLETION"]
    assert gaudi.source_url == f"{GAUDI_DOCS}/getting_started/validated_models.md"
    assert await _edges(session, gaudi) == [
        "DeepseekOCRForCausalLM",
        "Ernie4_5_VLMoeForConditionalGeneration",
        "GptOssForCausalLM",
        "GraniteForCausalLM",
        "HunYuanDenseV1ForCausalLM",
        "HunYuanMoEV1ForCausalLM",
        "Llama4ForConditionalGeneration",
        "LlamaForCausalLM",
        "MiniMaxM2ForCausalLM",
        "MixtralForCausalLM",
        "Ovis",
        "Qwen3_5MoeForConditionalGeneration",
    ]
    edge_sources = await session.scalars(
        select(db.CompatibilityEdge.source_url).where(db.CompatibilityEdge.engine_version_id == gaudi.id)
    )
    assert set(edge_sources.all()) == {gaudi.source_url}

    # when a runtime on Gaudi asks what serves Llama, it gets the Gaudi image
    data = await client.data(COMPATIBLE_ON_HPU, {"architecture": "LlamaForCausalLM"})
    assert data["compatibleEngineVersions"]["nodes"] == [
        {
            "engineVersion": {
                "version": "0.26.0",
                "deviceArchitecture": "HPU",
                "engine": {"slug": "vllm"},
                "upstreamRelease": None,
            },
            "containerImage": GAUDI_IMAGE,
        }
    ]
    # and an architecture the plugin has not validated gets no Gaudi build
    data = await client.data(COMPATIBLE_ON_HPU, {"architecture": "GPT2LMHeadModel"})
    assert data["compatibleEngineVersions"]["nodes"] == []


async def test_llamacpp_builds_are_ggml_orgs_server_images_of_the_vendored_llamacpp(
    session: RequestSession, client: GraphQLClient
) -> None:
    # given the seed
    await seed(session)
    await session.commit()

    # then each llama.cpp build is ggml-org's server image of the build llama-cpp-python vendors, and
    # serves what that release's convert_hf_to_gguf.py converts
    for number, build in (("0.3.35", "b10454"), ("0.3.36", "b11312")):
        for device, flavour in (("CPU", "server"), ("CUDA", "server-cuda"), ("ROCM", "server-rocm")):
            version = await _version(session, "llamacpp", number, device)
            assert version.container_image == f"{LLAMACPP_IMAGES}:{flavour}-{build}"
            commit = LLAMACPP_COMMITS[number]
            assert version.source_url == f"{LLAMACPP_REPO}/blob/{commit}/.github/workflows/docker.yml"
            release = await session.get(db.UpstreamRelease, version.upstream_release_id)
            assert release is not None
            assert release.version == number
            assert await _edges(session, version) == sorted(shipped_names("llamacpp", number))
            assert version.endpoints == ["CHAT", "COMPLETION", "EMBEDDING"]
    assert await service.inconsistencies(session) == []

    # when a runtime on ROCm asks what llama.cpp serves Llama, it gets both builds' ROCm images
    data = await client.data(COMPATIBLE_LLAMACPP, {"architecture": "LlamaForCausalLM", "device": "ROCM"})
    assert data["compatibleEngineVersions"]["nodes"] == [
        {
            "engineVersion": {
                "version": number,
                "deviceArchitecture": "ROCM",
                "upstreamRelease": {"version": number},
            },
            "containerImage": f"{LLAMACPP_IMAGES}:server-rocm-{build}",
        }
        for number, build in (("0.3.36", "b11312"), ("0.3.35", "b10454"))
    ]
    # and one that only 0.3.36's converter registers gets only 0.3.36's image
    data = await client.data(COMPATIBLE_LLAMACPP, {"architecture": "HrmTextForCausalLM", "device": "CUDA"})
    assert [node["containerImage"] for node in data["compatibleEngineVersions"]["nodes"]] == [
        f"{LLAMACPP_IMAGES}:server-cuda-b11312"
    ]
    # and the latest llama.cpp on a device is 0.3.36's image (the versions order as the releases do)
    data = await client.data(LATEST_LLAMACPP, {"device": "CPU"})
    assert data["latestEngineVersion"] == {
        "version": "0.3.36",
        "containerImage": f"{LLAMACPP_IMAGES}:server-b11312",
    }
    # and one no converter registers (BLIP-2) gets no llama.cpp build on any device
    data = await client.data(
        COMPATIBLE_LLAMACPP, {"architecture": "Blip2ForConditionalGeneration", "device": None}
    )
    assert data["compatibleEngineVersions"]["nodes"] == []
