"""Deployment plans checked against hand calculations for well-known configurations.

The models' figures are their published configs (config.json on the Hugging Face Hub) and
safetensors sizes; the devices' are the vendors' datasheets as the seed records them (H100 SXM5:
80 GB, 3,350 GB/s, 989.5 dense BF16 TFLOPS, 1,979 FP8, compute capability 9.0; A100 SXM4: 80 GB,
2,039 GB/s, 312 TFLOPS, 8.0; H200: 141 GB, 4,800 GB/s). vLLM takes 0.9 of a device by default
(``gpu_memory_utilization``), so 8 GB of an 80 GB device is reserve.
"""

from __future__ import annotations

from typing import Any

from budgraph import db
from budgraph.db.base import Origin
from budgraph.kit.db import RequestSession
from tests import factories
from tests.conftest import GraphQLClient

PLANS = """
query ($model: String!, $hardware: String!, $devices: Int! = 8, $context: Int, $concurrency: Int! = 1,
       $engine: String, $quantization: String, $kv: KvCacheDtype! = AUTO) {
  deploymentPlans(model: $model, hardware: $hardware, devices: $devices, contextLength: $context,
                  concurrency: $concurrency, engine: $engine, quantization: $quantization, kvCacheDtype: $kv) {
    engineVersion { version engine { slug } }
    containerImage quantization fits reasons devices tensorParallel pipelineParallel
    weightsBytes weightsExact kvCacheBytesPerToken memoryFraction memoryFractionSource
    memoryPerDevice { totalBytes weightsBytes kvCacheBytes reserveBytes freeBytes }
    decodeTokensPerSecond prefillTokensPerSecond
    offer { provider { slug } region instanceType instances perHour }
    dollarsPerMillionOutputTokens
  }
}
"""

# meta-llama/Llama-3.1-8B-Instruct: 32 layers, 32 heads, 8 KV heads, head_dim 128, hidden 4096,
# vocab 128,256, bfloat16; model.safetensors.index.json total_size 16,060,522,496 (8,030,261,248
# parameters x 2 bytes).
LLAMA_8B = {
    "architecture": "LlamaForCausalLM", "layers": 32, "attention_heads": 32, "kv_heads": 8, "head_dim": 128,
    "hidden_size": 4096, "vocab_size": 128256, "dtype": "bfloat16", "context_length": 131072,
    "parameter_count": 8_030_261_248, "weight_bytes": 16_060_522_496,
}  # fmt: skip
# meta-llama/Llama-3.1-70B-Instruct: 80 layers, 64 heads, 8 KV heads, head_dim 128, hidden 8192;
# 70,553,706,496 parameters, 141,107,412,992 bytes in bfloat16.
LLAMA_70B = {
    **LLAMA_8B, "layers": 80, "attention_heads": 64, "hidden_size": 8192,
    "parameter_count": 70_553_706_496, "weight_bytes": 141_107_412_992,
}  # fmt: skip
# mistralai/Mixtral-8x7B-Instruct-v0.1: 32 layers, 32 heads, 8 KV heads, 8 experts, 2 active per
# token; 46,702,792,704 parameters (93,405,585,408 bytes in bfloat16), 12,879,925,248 active (the
# attention, two of the eight 3 x 4096 x 14336 experts per layer, the gate, the norms and the
# untied 32,000 x 4096 embeddings).
MIXTRAL = {
    "architecture": "MixtralForCausalLM", "layers": 32, "attention_heads": 32, "kv_heads": 8, "head_dim": 128,
    "hidden_size": 4096, "vocab_size": 32000, "dtype": "bfloat16", "context_length": 32768,
    "experts_total": 8, "experts_active": 2, "parameter_count": 46_702_792_704,
    "active_parameter_count": 12_879_925_248, "weight_bytes": 93_405_585_408,
}  # fmt: skip
# deepseek-ai/DeepSeek-V3: 61 layers, 128 heads, multi-head latent attention with kv_lora_rank 512
# and qk_rope_head_dim 64, stored in fp8 (block-wise 128 x 128 scales). The weight bytes here are a
# round 689 GB fixture figure (the repository's safetensors hold about that), not its exact size.
DEEPSEEK_V3 = {
    "architecture": "DeepseekV3ForCausalLM", "layers": 61, "attention_heads": 128, "kv_heads": 128,
    "kv_lora_rank": 512, "qk_rope_head_dim": 64, "hidden_size": 7168, "vocab_size": 129280,
    "dtype": "bfloat16", "context_length": 163840, "quantization_method": "fp8",
    "parameter_count": 671_000_000_000, "active_parameter_count": 37_000_000_000,
    "weight_bytes": 689_000_000_000,
}  # fmt: skip
# mistralai/Mistral-7B-v0.1: 32 layers, 8 KV heads, head_dim 128, a 4,096-token sliding window on
# every layer; 7,241,732,096 parameters, 14,483,464,192 bytes.
MISTRAL_7B = {
    "architecture": "MistralForCausalLM", "layers": 32, "attention_heads": 32, "kv_heads": 8, "head_dim": 128,
    "hidden_size": 4096, "vocab_size": 32000, "dtype": "bfloat16", "context_length": 32768,
    "sliding_window": 4096, "sliding_window_layers": 32,
    "parameter_count": 7_241_732_096, "weight_bytes": 14_483_464_192,
}  # fmt: skip

H100: dict[str, Any] = {
    "memory_gb": 80,
    "memory_bandwidth_gbps": 3350,
    "peak_bf16_tflops": 989.5,
    "peak_fp8_tflops": 1979,
}
A100: dict[str, Any] = {"memory_gb": 80, "memory_bandwidth_gbps": 2039, "peak_bf16_tflops": 312}


async def _support(session: RequestSession, version: db.EngineVersion, method: str, capability: str) -> None:
    session.add(
        db.QuantizationSupport(
            engine_version_id=version.id,
            method=method,
            device_architecture=version.device_architecture,
            min_compute_capability=capability,
            origin=Origin.SEED.value,
            source_url=f"https://example.test/{method}",
        )
    )
    await session.flush()


async def given_registry(session: RequestSession) -> None:
    """vLLM 0.9.1 on CUDA (fp8 from 8.9, awq from 7.5, compressed-tensors from 7.0) serving the five
    architectures (DeepSeek-V3 without pipeline parallelism); SGLang 0.5.23 on CUDA serving Llama;
    the H100 at two providers (one device at 3.50 an hour, eight at 2.99 each), the A100 and H200."""
    vllm = await factories.engine(session, "vllm", "vLLM")
    sglang = await factories.engine(session, "sglang", "SGLang")
    cuda = await factories.version(session, vllm, "0.9.1", container_image="vllm/vllm-openai:v0.9.1")
    sgl = await factories.version(session, sglang, "0.5.23", container_image="lmsysorg/sglang:v0.5.23")
    for method, capability in (("fp8", "8.9"), ("awq", "7.5"), ("compressed-tensors", "7.0")):
        await _support(session, cuda, method, capability)
    for name, pipeline in (
        ("LlamaForCausalLM", True),
        ("MixtralForCausalLM", True),
        ("MistralForCausalLM", True),
        ("DeepseekV3ForCausalLM", False),
    ):
        arch = await factories.architecture(session, name, supports_pipeline_parallelism=pipeline)
        await factories.edge(session, cuda, arch)
        if name == "LlamaForCausalLM":
            await factories.edge(session, sgl, arch)
    h100 = await factories.hardware(
        session, "nvidia-h100-sxm5-80gb", name="NVIDIA H100 SXM5", compute_capability="9.0", **H100
    )
    await factories.hardware(
        session, "nvidia-a100-sxm4-80gb", name="NVIDIA A100 SXM4", compute_capability="8.0", **A100
    )
    await factories.hardware(
        session, "nvidia-h200-sxm-141gb", name="NVIDIA H200", compute_capability="9.0",
        **{**H100, "memory_gb": 141, "memory_bandwidth_gbps": 4800},
    )  # fmt: skip
    single = await factories.provider(session, "runpod", "compute_cloud")
    octo = await factories.provider(session, "lambda", "compute_cloud")
    await factories.hardware_price(session, h100, single, "3.50", instance_type="1x-h100")
    await factories.hardware_price(
        session, h100, octo, "2.99", instance_type="8x-h100", devices_per_instance=8, region="us-west-2"
    )
    for uri, facts in (
        ("meta-llama/Llama-3.1-8B-Instruct", LLAMA_8B),
        ("meta-llama/Llama-3.1-70B-Instruct", LLAMA_70B),
        ("mistralai/Mixtral-8x7B-Instruct-v0.1", MIXTRAL),
        ("deepseek-ai/DeepSeek-V3", DEEPSEEK_V3),
        ("mistralai/Mistral-7B-v0.1", MISTRAL_7B),
    ):
        await factories.model(session, uri, **facts)
    await factories.model(session, "someone/not-extracted-yet", architecture="LlamaForCausalLM")
    await session.commit()


def _plan(plans: list[dict[str, Any]], engine: str, quantization: str | None) -> dict[str, Any]:
    (found,) = [
        p
        for p in plans
        if p["engineVersion"]["engine"]["slug"] == engine and p["quantization"] == quantization
    ]
    return found


async def _plans(client: GraphQLClient, **variables: Any) -> list[dict[str, Any]]:
    data = await client.data(PLANS, variables)
    plans: list[dict[str, Any]] = data["deploymentPlans"]
    return plans


async def test_a_dense_gqa_model_fits_one_h100_with_its_exact_figures(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)
    plans = await _plans(
        client, model="meta-llama/Llama-3.1-8B-Instruct", hardware="nvidia-h100-sxm5-80gb", context=8192
    )

    plan = _plan(plans, "vllm", None)
    # KV cache: 2 (K, V) x 32 layers x 8 KV heads x 128 x 2 bytes = 131,072 bytes a token;
    # 8,192 tokens = 1,073,741,824 bytes. Free: 80e9 - 8e9 reserve - 16,060,522,496 - 1,073,741,824.
    assert plan == {
        "engineVersion": {"version": "0.9.1", "engine": {"slug": "vllm"}},
        "containerImage": "vllm/vllm-openai:v0.9.1",
        "quantization": None,
        "fits": True,
        "reasons": [],
        "devices": 1,
        "tensorParallel": 1,
        "pipelineParallel": 1,
        "weightsBytes": 16_060_522_496,
        "weightsExact": True,
        "kvCacheBytesPerToken": 131_072,
        "memoryFraction": 0.9,
        "memoryFractionSource": plan["memoryFractionSource"],
        "memoryPerDevice": {
            "totalBytes": 80_000_000_000,
            "weightsBytes": 16_060_522_496,
            "kvCacheBytes": 1_073_741_824,
            "reserveBytes": 8_000_000_000,
            "freeBytes": 54_865_735_680,
        },
        # 3,350e9 B/s / (16,060,522,496 + 1,073,741,824) bytes a step = 195.5 tokens/s
        "decodeTokensPerSecond": 195.5,
        # 989.5e12 FLOPS / (2 x 8,030,261,248) = 61,610.7 tokens/s
        "prefillTokensPerSecond": 61_610.7,
        # one device: the 1x offer (3.50) beats a whole 8x instance (8 x 2.99 = 23.92)
        "offer": {
            "provider": {"slug": "runpod"},
            "region": "us-east-1",
            "instanceType": "1x-h100",
            "instances": 1,
            "perHour": "3.5",
        },
        # 3.50 / (195.5... x 3600) x 1e6
        "dollarsPerMillionOutputTokens": "4.9726",
    }
    assert "gpu_memory_utilization" in plan["memoryFractionSource"]

    # estimated 4-bit and 8-bit variants: the 7,504,924,672 non-embedding parameters at 4.15625 bits
    # (4 + 20 bits of scale and zero per 128) or 8, the 525,336,576-parameter embedding at 2 bytes
    awq, fp8 = _plan(plans, "vllm", "awq"), _plan(plans, "vllm", "fp8")
    assert (awq["weightsBytes"], awq["weightsExact"], awq["fits"]) == (4_949_716_048, False, True)
    assert (fp8["weightsBytes"], fp8["fits"]) == (8_555_597_824, True)
    # compressed-tensors is as wide as its checkpoint: not sized unless asked for
    assert {p["quantization"] for p in plans} == {None, "awq", "fp8"}

    # SGLang has no memory fraction of its own on record: the registry's 10% reserve applies
    sgl = _plan(plans, "sglang", None)
    assert (sgl["memoryFraction"], sgl["memoryPerDevice"]["reserveBytes"]) == (0.9, 8_000_000_000)
    assert "plan_runtime_reserve" in sgl["memoryFractionSource"]

    # an fp8 cache halves the KV bytes a token
    fp8_cache = await _plans(
        client, model="meta-llama/Llama-3.1-8B-Instruct", hardware="nvidia-h100-sxm5-80gb", context=8192,
        engine="vllm", quantization="fp8", kv="FP8",
    )  # fmt: skip
    assert [p["kvCacheBytesPerToken"] for p in fp8_cache] == [65_536]


async def test_a_70b_model_takes_several_devices_and_says_why_two_are_not_enough(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)
    asked = {
        "model": "meta-llama/Llama-3.1-70B-Instruct",
        "hardware": "nvidia-h100-sxm5-80gb",
        "engine": "vllm",
    }

    plans = await _plans(client, **asked, context=8192, concurrency=8)
    plan = _plan(plans, "vllm", None)
    # one device: 141.1 GB > 72 GB; two: 70.55 GB of weights each leave 1.45 GB, and 8 sequences of
    # 8,192 tokens x 327,680 bytes (2 x 80 x 8 x 128 x 2) over 2 ranks need 10.7 GB each. Three
    # fit as pipeline stages (64 heads do not split three ways): 47.0 GB of weights each, and the
    # cache of the 27 layers of the largest stage, 27/80 of 21,474,836,480 bytes.
    assert (plan["fits"], plan["devices"], plan["tensorParallel"], plan["pipelineParallel"]) == (
        True,
        3,
        1,
        3,
    )
    assert plan["memoryPerDevice"] == {
        "totalBytes": 80_000_000_000,
        "weightsBytes": 47_035_804_331,
        "kvCacheBytes": 7_247_757_312,
        "reserveBytes": 8_000_000_000,
        "freeBytes": 17_716_438_357,
    }
    # 8 sequences x 3,350e9 / (141,107,412,992 / 3 + 7,247,757,312) = 493.7 tokens/s
    assert plan["decodeTokensPerSecond"] == 493.7
    # no tensor parallelism: three 1x instances (3 x 3.50) beat the 8x (8 x 2.99)
    assert plan["offer"] == {
        "provider": {"slug": "runpod"}, "region": "us-east-1", "instanceType": "1x-h100", "instances": 3,
        "perHour": "10.5",
    }  # fmt: skip

    two = _plan(await _plans(client, **asked, context=8192, concurrency=8, devices=2), "vllm", None)
    assert (two["fits"], two["devices"], two["offer"], two["dollarsPerMillionOutputTokens"]) == (
        False,
        2,
        None,
        None,
    )
    assert two["reasons"] == [
        "141.1 GB of weights on 2 x 80.0 GB NVIDIA H100 SXM5 with 10% reserve leave 1.4 GB per device for the KV"
        " cache; 8,192 tokens x 8 sequences need 10.7 GB per device"
    ]
    one = _plan(await _plans(client, **asked, context=8192, devices=1), "vllm", None)
    assert one["reasons"] == [
        "141.1 GB of weights on 1 x 80.0 GB NVIDIA H100 SXM5 with 10% reserve leaves no room for the KV cache"
    ]


async def test_a_mixture_of_experts_model_reads_only_its_active_experts_per_token(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)
    plans = await _plans(
        client, model="mistralai/Mixtral-8x7B-Instruct-v0.1", hardware="nvidia-h100-sxm5-80gb", context=8192,
        engine="vllm",
    )  # fmt: skip
    plan = _plan(plans, "vllm", None)
    # 93.4 GB of weights: two devices (46.7 GB each); every expert is in memory
    assert (plan["devices"], plan["tensorParallel"], plan["memoryPerDevice"]["weightsBytes"]) == (
        2,
        2,
        46_702_792_704,
    )
    # a step reads the active share (12,879,925,248 / 46,702,792,704 of the bytes: 25,759,850,496)
    # over two devices, plus half of the 1,073,741,824-byte cache:
    # 3,350e9 / (12,879,925,248 + 536,870,912) = 249.7 tokens/s
    assert plan["decodeTokensPerSecond"] == 249.7
    # prefill: 2 x 989.5e12 / (2 x 12,879,925,248) = 76,825.0 tokens/s
    assert plan["prefillTokensPerSecond"] == 76_825.0


async def test_multi_head_latent_attention_caches_one_latent_replicated_on_every_rank(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)
    asked = {"model": "deepseek-ai/DeepSeek-V3", "engine": "vllm", "context": 8192}

    plans = await _plans(client, **asked, hardware="nvidia-h200-sxm-141gb")
    # stored in fp8: only fp8 is planned, from the checkpoint's bytes
    (plan,) = plans
    assert (plan["quantization"], plan["weightsExact"]) == ("fp8", True)
    # 61 layers x (512 latent + 64 rotary) x 2 bytes = 70,272 bytes a token (DeepSeek-V2 paper, 2.1.2)
    assert plan["kvCacheBytesPerToken"] == 70_272
    # 689 GB over 0.9 x 141 GB needs 6 devices; 128 heads do not split by 6, and DeepSeek-V3 has no
    # pipeline parallelism here: 8 x 1. Each rank holds every sequence's whole latent cache.
    assert (plan["fits"], plan["devices"], plan["tensorParallel"], plan["pipelineParallel"]) == (
        True,
        8,
        8,
        1,
    )
    assert plan["memoryPerDevice"]["kvCacheBytes"] == 70_272 * 8192
    assert plan["memoryPerDevice"]["weightsBytes"] == 86_125_000_000
    # fp8 compute: prefill at the FP8 peak, 8 x 1,979e12 / (2 x 37e9) = 213,945.9 tokens/s
    assert plan["prefillTokensPerSecond"] == 213_945.9

    # the A100 (8.0) cannot run vLLM's fp8, which needs 8.9
    (a100,) = await _plans(client, **asked, hardware="nvidia-a100-sxm4-80gb")
    assert (a100["fits"], a100["devices"], a100["weightsBytes"]) == (False, None, None)
    assert a100["reasons"] == ["fp8 needs compute capability 8.9 and the NVIDIA A100 SXM4 has 8.0"]

    # six devices allow no layout of six: 128 heads split by 4 at most below 6, and no pipeline stages
    (six,) = await _plans(client, **asked, hardware="nvidia-h200-sxm-141gb", devices=6)
    assert (six["fits"], six["devices"], six["tensorParallel"]) == (False, 4, 4)
    assert six["reasons"] == [
        "689.0 GB of weights on 4 x 141.0 GB NVIDIA H200 with 10% reserve leaves no room for the KV cache",
        "6 devices: no tensor-parallel degree above 4 divides the 128 attention heads and 128 KV heads, and the"
        " architecture does not support pipeline parallelism",
    ]

    # a quantized checkpoint is not re-planned in another method
    (awq,) = await _plans(client, **asked, hardware="nvidia-h200-sxm-141gb", quantization="awq")
    assert awq["reasons"] == ["the model is stored quantized with fp8; it cannot be planned as awq"]


async def test_sliding_window_layers_stop_growing_at_the_window(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)
    plans = await _plans(
        client, model="mistralai/Mistral-7B-v0.1", hardware="nvidia-h100-sxm5-80gb", context=32768, concurrency=4,
        engine="vllm",
    )  # fmt: skip
    plan = _plan(plans, "vllm", None)
    # 131,072 bytes a token, but every layer keeps only its last 4,096 tokens: 4 x 4,096 x 131,072
    assert plan["memoryPerDevice"]["kvCacheBytes"] == 2_147_483_648
    # (without the window: 4 x 32,768 x 131,072 = 17,179,869,184)


async def test_refusals_say_why_and_bad_arguments_are_typed_errors(
    session: RequestSession, client: GraphQLClient
) -> None:
    await given_registry(session)
    llama = {
        "model": "meta-llama/Llama-3.1-8B-Instruct",
        "hardware": "nvidia-h100-sxm5-80gb",
        "engine": "vllm",
    }

    # a method the version has no row for, and one whose width depends on the checkpoint
    (gptq,) = await _plans(client, **llama, context=8192, quantization="gptq")
    assert gptq["reasons"] == ["vLLM 0.9.1 (CUDA) has no gptq support on record"]
    (ct,) = await _plans(client, **llama, context=8192, quantization="Compressed-Tensors")
    assert ct["reasons"] == [
        "compressed-tensors weights are as wide as the checkpoint makes them: plan a model stored in"
        " compressed-tensors"
    ]
    # a model not extracted yet
    unknown = await _plans(
        client,
        model="someone/not-extracted-yet",
        hardware="nvidia-h100-sxm5-80gb",
        context=4096,
        engine="vllm",
    )
    assert [(plan["quantization"], plan["fits"], plan["reasons"]) for plan in unknown] == [
        (None, False, ["the size of the model's weights is not known yet (extract the model first)"]),
        ("awq", False, ["the model's parameter count is not known yet (extract the model first)"]),
        ("fp8", False, ["the model's parameter count is not known yet (extract the model first)"]),
    ]

    # a model whose size is known but not its attention shape, and a SKU without its memory on record
    await factories.model(session, "someone/no-shape", architecture="LlamaForCausalLM", weight_bytes=10**9)
    await factories.hardware(session, "mystery-gpu", name="A mystery GPU", compute_capability="9.0")
    await session.commit()
    shapeless = await _plans(
        client, model="someone/no-shape", hardware="nvidia-h100-sxm5-80gb", context=4096, engine="vllm"
    )
    no_shape = _plan(shapeless, "vllm", None)
    assert no_shape["reasons"] == [
        "the model's attention shape is not known yet (layers, heads: extract the model first)"
    ]
    (no_memory, *_) = await _plans(client, **{**llama, "hardware": "mystery-gpu"}, context=4096)
    assert no_memory["reasons"] == ["the A mystery GPU's device memory is not on record"]

    cases: list[tuple[dict[str, Any], tuple[str, str]]] = [
        ({**llama, "model": "nobody/nothing"}, ("NOT_FOUND", "model")),
        ({**llama, "hardware": "nvidia-b300"}, ("NOT_FOUND", "hardware")),
        ({**llama, "context": 200_000}, ("BAD_USER_INPUT", "contextLength")),
        ({**llama, "context": 0}, ("BAD_USER_INPUT", "contextLength")),
        ({**llama, "concurrency": 0}, ("BAD_USER_INPUT", "concurrency")),
        ({**llama, "devices": 65}, ("BAD_USER_INPUT", "devices")),
        ({**llama, "quantization": " "}, ("BAD_USER_INPUT", "quantization")),
        (
            {"model": "someone/not-extracted-yet", "hardware": "nvidia-h100-sxm5-80gb"},
            ("BAD_USER_INPUT", "contextLength"),
        ),
    ]
    for variables, expected in cases:
        body = await client.execute(PLANS, variables)
        assert body["data"] is None, variables
        (error,) = body["errors"]
        assert (error["extensions"]["code"], error["extensions"]["field"]) == expected, (variables, error)
