"""Quantization support and upstream releases in the graph: can this version run this quantization
on this device, which methods a hardware SKU can run, what a release declares."""

from __future__ import annotations

from typing import Any

from budgraph.kit.db import RequestSession
from budgraph.kit.ids import to_global_id
from tests import factories
from tests.conftest import GraphQLClient
from tests.releases.facts import given_vllm_builds

SUPPORT = """
query ($engine: String, $version: String, $device: DeviceArchitecture, $method: String, $capability: String) {
  quantizationSupport(engine: $engine, version: $version, deviceArchitecture: $device, method: $method,
                      computeCapability: $capability) {
    totalCount
    nodes { method deviceArchitecture minComputeCapability activationDtypes origin sourceFile sourceSymbol
            sourceUrl engineVersion { version deviceArchitecture } }
  }
}
"""
RELEASE = """
query ($id: ID!) {
  engineVersion(id: $id) {
    endpoints
    quantizationSupport { method minComputeCapability origin }
    upstreamRelease {
      version artifact origin source sourceUrl engine { slug }
      architectures(first: 3) {
        totalCount pageInfo { hasNextPage }
        nodes { architecture { className } task endpoints supportsLora multimodal sourceFile sourceSymbol }
      }
      droppedArchitectures { className }
      quantization { method deviceArchitecture minComputeCapability }
      engineVersions { deviceArchitecture }
    }
  }
}
"""
HARDWARE = """
query ($sku: String!) {
  hardwareSku(sku: $sku) {
    quantizationSupport(first: 20) { totalCount nodes { method minComputeCapability engineVersion { version } } }
  }
}
"""
COMPATIBLE = """
query ($model: String, $method: String, $capability: String, $device: DeviceArchitecture) {
  compatibleEngineVersions(model: $model, architecture: "LlamaForCausalLM", deviceArchitecture: $device,
                           quantization: $method, computeCapability: $capability) {
    nodes { engineVersion { deviceArchitecture } quantizationSupported }
  }
}
"""


def _errors(body: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(e["extensions"]["code"], e["extensions"].get("field"), e["message"]) for e in body["errors"]]


async def test_a_device_below_a_methods_minimum_capability_cannot_run_it(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_vllm_builds(session)
    asked = {"engine": "vllm", "version": "0.8", "device": "CUDA", "method": "FP8"}

    # an Ampere device (8.0) cannot run fp8, which needs 8.9
    below = await client.data(SUPPORT, {**asked, "capability": "8.0"})
    assert below["quantizationSupport"] == {"totalCount": 0, "nodes": []}

    # Ada (8.9) and Blackwell (10.0, compared as numbers, not text) can
    for capability in ("8.9", "10.0"):
        found = await client.data(SUPPORT, {**asked, "capability": capability})
        assert found["quantizationSupport"]["nodes"] == [
            {
                "method": "fp8",
                "deviceArchitecture": "CUDA",
                "minComputeCapability": "8.9",
                "activationDtypes": ["bfloat16", "float16"],
                "origin": "RELEASE",
                "sourceFile": "vllm/model_executor/layers/quantization/fp8.py",
                "sourceSymbol": "Fp8Config.get_min_capability",
                "sourceUrl": "https://pypi.org/project/vllm/0.8.0/",
                "engineVersion": {"version": "0.8.0", "deviceArchitecture": "CUDA"},
            }
        ], capability

    # every method of the CUDA build an 8.0 device can run
    data = await client.data(SUPPORT, {"engine": "vllm", "device": "CUDA", "capability": "8.0"})
    assert [node["method"] for node in data["quantizationSupport"]["nodes"]] == ["awq", "gguf", "gptq"]
    # the ROCm build's fp8 declares no minimum
    rocm = await client.data(SUPPORT, {"engine": "vllm", "device": "ROCM"})
    assert [(n["method"], n["minComputeCapability"]) for n in rocm["quantizationSupport"]["nodes"]] == [
        ("fp8", None)
    ]


async def test_bad_questions_are_typed_errors(session: RequestSession, client: GraphQLClient) -> None:
    await given_vllm_builds(session)
    cases = [
        ({"capability": "8"}, ("BAD_USER_INPUT", "computeCapability")),
        ({"capability": "eight.nine"}, ("BAD_USER_INPUT", "computeCapability")),
        ({"engine": "tgi"}, ("NOT_FOUND", "engine")),
        ({"engine": "vllm", "version": "9.9.9"}, ("NOT_FOUND", "version")),
        ({"engine": "vllm", "version": "latest"}, ("BAD_USER_INPUT", "version")),
        ({"version": "0.8.0"}, ("BAD_USER_INPUT", "version")),
    ]
    for variables, expected in cases:
        body = await client.execute(SUPPORT, variables)
        assert body["data"] is None, variables
        assert [error[:2] for error in _errors(body)] == [expected], variables
    body = await client.execute(SUPPORT, {"capability": "8"})
    assert (
        _errors(body)[0][2]
        == "`computeCapability` must be a compute capability such as `8.9` (major.minor), got '8'"
    )


async def test_an_engine_version_names_its_upstream_release_and_what_it_declares(
    session: RequestSession, client: GraphQLClient
) -> None:
    world = await given_vllm_builds(session)
    data = await client.data(RELEASE, {"id": to_global_id("EngineVersion", world["cuda"].id)})
    version = data["engineVersion"]
    assert version["endpoints"] == ["CHAT", "COMPLETION", "EMBEDDING"]
    assert version["quantizationSupport"] == [
        {"method": "awq", "minComputeCapability": "7.5", "origin": "RELEASE"},
        {"method": "fp8", "minComputeCapability": "8.9", "origin": "RELEASE"},
        {"method": "gguf", "minComputeCapability": "6.0", "origin": "RELEASE"},
        {"method": "gptq", "minComputeCapability": "6.0", "origin": "RELEASE"},
    ]
    release = version["upstreamRelease"]
    assert {k: release[k] for k in ("version", "artifact", "origin", "source", "sourceUrl", "engine")} == {
        "version": "0.8.0",
        "artifact": "vllm-0.8.0.tar.gz",
        "origin": "RELEASE",
        "source": "upstream release vllm 0.8.0 (vllm-0.8.0.tar.gz)",
        "sourceUrl": "https://pypi.org/project/vllm/0.8.0/",
        "engine": {"slug": "vllm"},
    }
    assert release["architectures"]["totalCount"] == 6
    assert release["architectures"]["pageInfo"] == {"hasNextPage": True}
    assert release["architectures"]["nodes"] == [
        {
            "architecture": {"className": "BertModel"},
            "task": "EMBEDDING",
            "endpoints": ["EMBEDDING"],
            "supportsLora": None,
            "multimodal": False,
            "sourceFile": "vllm/model_executor/models/registry.py",
            "sourceSymbol": "_EMBEDDING_MODELS['BertModel']",
        },
        {
            "architecture": {"className": "LlamaForCausalLM"},
            "task": "GENERATE",
            "endpoints": ["CHAT", "COMPLETION"],
            "supportsLora": True,
            "multimodal": False,
            "sourceFile": "vllm/model_executor/models/registry.py",
            "sourceSymbol": "_TEXT_GENERATION_MODELS['LlamaForCausalLM']",
        },
        {
            "architecture": {"className": "MPTForCausalLM"},
            "task": "GENERATE",
            "endpoints": ["CHAT", "COMPLETION"],
            "supportsLora": False,
            "multimodal": False,
            "sourceFile": "vllm/model_executor/models/registry.py",
            "sourceSymbol": "_TEXT_GENERATION_MODELS['MPTForCausalLM']",
        },
    ]
    assert release["droppedArchitectures"] == []
    assert [(q["method"], q["deviceArchitecture"]) for q in release["quantization"]] == [
        ("awq", "CUDA"),
        ("fp8", "CUDA"),
        ("fp8", "ROCM"),
        ("gguf", "CUDA"),
        ("gptq", "CUDA"),
    ]
    assert release["engineVersions"] == [{"deviceArchitecture": "CUDA"}, {"deviceArchitecture": "ROCM"}]
    # the root lookup finds the same release by version order
    found = await client.data('{ upstreamRelease(engine: "vllm", version: "0.8") { version } }')
    assert found["upstreamRelease"] == {"version": "0.8.0"}
    missing = await client.data('{ upstreamRelease(engine: "vllm", version: "0.9.0") { version } }')
    assert missing["upstreamRelease"] is None


async def test_hardware_answers_which_methods_it_can_run_on_which_versions(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_vllm_builds(session)

    async def methods(sku: str) -> list[tuple[str, str | None]]:
        data = await client.data(HARDWARE, {"sku": sku})
        nodes = data["hardwareSku"]["quantizationSupport"]["nodes"]
        return [(node["method"], node["minComputeCapability"]) for node in nodes]

    assert await methods("nvidia-a100-80gb") == [("awq", "7.5"), ("gguf", "6.0"), ("gptq", "6.0")]
    assert await methods("nvidia-h100-80gb") == [
        ("awq", "7.5"),
        ("fp8", "8.9"),
        ("gguf", "6.0"),
        ("gptq", "6.0"),
    ]
    assert await methods("amd-mi300x") == [("fp8", None)]


async def test_compatible_versions_filter_by_quantization_and_say_whether_the_models_runs(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_vllm_builds(session)
    await factories.model(
        session, "org/llama-awq", architecture="LlamaForCausalLM", quantization_method="awq"
    )
    await factories.model(
        session, "org/llama-nvfp4", architecture="LlamaForCausalLM", quantization_method="nvfp4"
    )
    await session.commit()

    async def answer(variables: dict[str, Any]) -> list[tuple[str, bool | None]]:
        data = await client.data(COMPATIBLE, variables)
        nodes = data["compatibleEngineVersions"]["nodes"]
        return [(n["engineVersion"]["deviceArchitecture"], n["quantizationSupported"]) for n in nodes]

    # fp8 on an 8.0 device: only the ROCm build (no minimum there); on 9.0 both
    assert await answer({"method": "fp8", "capability": "8.0"}) == [("ROCM", True)]
    assert await answer({"method": "fp8", "capability": "9.0"}) == [("CUDA", True), ("ROCM", True)]
    assert await answer({"method": "fp8", "capability": "9.0", "device": "CUDA"}) == [("CUDA", True)]
    # without a filter, each version says whether it runs the model's own method
    assert await answer({"model": "org/llama-awq"}) == [("CUDA", True), ("ROCM", False)]
    assert await answer({"model": "org/llama-nvfp4"}) == [("CUDA", False), ("ROCM", False)]
    assert await answer({}) == [("CUDA", None), ("ROCM", None)]
    body = await client.execute(COMPATIBLE, {"method": "fp8", "capability": "9"})
    assert [e[:2] for e in _errors(body)] == [("BAD_USER_INPUT", "computeCapability")]
