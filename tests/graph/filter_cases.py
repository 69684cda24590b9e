"""Cases of every filter field, each with the rule a returned row must satisfy, written in Python
against the loaded rows (independently of the SQL that the API runs).

CASES[filter input type][field] is a list of (value, predicate); a value may be a function of the
world (for ids). A filter field of the schema without an entry here fails the filter test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from budgraph import db
from budgraph.auth.keys import status_of
from budgraph.db.auth import ApiKeyEventKind
from budgraph.db.enums import (
    DeviceArchitecture,
    Endpoint,
    EngineVersionStatus,
    JobKind,
    JobStatus,
    LicenseKind,
    Modality,
    ModelSource,
    ModelStatus,
    ParserRuleType,
    ProviderKind,
    ProviderModelMode,
)
from budgraph.kit.ids import to_global_id
from tests.graph.filter_world import World

Predicate = Callable[[Any, World], bool]


@dataclass(frozen=True)
class Case:
    value: Any
    holds: Predicate

    def resolved(self, world: World) -> Any:
        return self.value(world) if callable(self.value) else self.value


def contains(text: str, *values: str | None) -> bool:
    return any(value is not None and text.casefold() in value.casefold() for value in values)


def stored(enum: Any, names: list[str]) -> set[str]:
    return {enum[name].value for name in names}


def at_least(value: Any, bound: str) -> bool:
    return value is not None and Decimal(value) >= Decimal(bound)


def at_most(value: Any, bound: str) -> bool:
    return value is not None and Decimal(value) <= Decimal(bound)


def capability(text: str | None) -> tuple[int, ...] | None:
    return tuple(int(part) for part in text.split(".")) if text else None


def engine_slug(version: db.EngineVersion, world: World) -> str:
    return str(world.by_id(db.Engine)[version.engine_id].slug)


def served_names(version: db.EngineVersion, world: World) -> set[str]:
    archs = world.by_id(db.ModelArchitecture)
    return {archs[arch_id].class_name for arch_id in world.served[version.id]}


def license_of(model: db.Model, world: World) -> db.License | None:
    return world.by_id(db.License).get(model.license_id) if model.license_id else None


def hardware_of(price: db.HardwarePrice, world: World) -> db.Hardware:
    hardware: db.Hardware = world.by_id(db.Hardware)[price.hardware_id]
    return hardware


def provider_slug(row: Any, world: World) -> str:
    return str(world.by_id(db.Provider)[row.provider_id].slug)


def offer(price: db.HardwarePrice) -> tuple[int, int, str, str]:
    return (price.hardware_id, price.provider_id, price.region, price.instance_type)


def in_effect(price: db.HardwarePrice, world: World, on: str | None) -> bool:
    """Whether the price is its offer's latest (dated on or before ``on``, when given)."""
    dated = [
        other
        for other in world.rows(db.HardwarePrice)
        if offer(other) == offer(price) and (on is None or other.as_of.isoformat() <= on)
    ]
    if on is not None and price.as_of.isoformat() > on:
        return False
    best = max(dated, key=lambda p: (p.as_of, p.id))
    return bool(best.id == price.id)


def model_ids(world: World, uris: list[str]) -> list[str]:
    return [to_global_id("Model", world.one(db.Model, uri=uri).id) for uri in uris]


LLAMA, QWEN, DEEPSEEK = (
    "meta-llama/Llama-3.1-8B-Instruct",
    "Qwen/Qwen2.5-72B-Instruct",
    "deepseek-ai/DeepSeek-R1",
)


def key_status(key: db.ApiKey) -> str:
    return status_of(key.revoked_at, key.expires_at, datetime.now(UTC)).value


def key_name(event: db.ApiKeyEvent, world: World) -> str:
    return str(world.by_id(db.ApiKey)[event.api_key_id].name)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def case(value: Any, holds: Predicate) -> Case:
    return Case(value, holds)


CASES: dict[str, dict[str, list[Case]]] = {
    "EngineFilter": {
        "search": [
            case("llm", lambda r, w: contains("llm", r.name, r.slug)),
            case("a.c", lambda r, w: contains("a.c", r.name, r.slug)),
        ],
        "slugs": [case(["vllm", "sglang"], lambda r, w: r.slug in {"vllm", "sglang"})],
    },
    "EngineVersionFilter": {
        "engineSlugs": [case(["sglang"], lambda r, w: engine_slug(r, w) == "sglang")],
        "deviceArchitectures": [
            case(
                ["ROCM", "CPU"],
                lambda r, w: r.device_architecture in stored(DeviceArchitecture, ["ROCM", "CPU"]),
            )
        ],
        "statuses": [
            case(
                ["DEPRECATED", "YANKED"],
                lambda r, w: r.status in stored(EngineVersionStatus, ["DEPRECATED", "YANKED"]),
            )
        ],
        "endpoints": [
            case(["CHAT"], lambda r, w: "CHAT" in r.endpoints),
            case(["CHAT", "COMPLETION"], lambda r, w: {"CHAT", "COMPLETION"} <= set(r.endpoints)),
            case(["EMBEDDING"], lambda r, w: stored(Endpoint, ["EMBEDDING"]) <= set(r.endpoints)),
        ],
        "architecture": [case("LlamaForCausalLM", lambda r, w: "LlamaForCausalLM" in served_names(r, w))],
        "versionPrefix": [case("0.1", lambda r, w: r.version.startswith("0.1"))],
    },
    "ModelArchitectureFilter": {
        "search": [case("qwen3", lambda r, w: contains("qwen3", r.class_name, r.family))],
        "families": [case(["llama", "qwen2"], lambda r, w: r.family in {"llama", "qwen2"})],
        "supportsLora": [
            case(True, lambda r, w: r.supports_lora),
            case(False, lambda r, w: not r.supports_lora),
        ],
        "supportsPipelineParallelism": [
            case(True, lambda r, w: r.supports_pipeline_parallelism),
            case(False, lambda r, w: not r.supports_pipeline_parallelism),
        ],
    },
    "ParserRuleFilter": {
        "engineSlugs": [case(["vllm"], lambda r, w: w.by_id(db.Engine)[r.engine_id].slug == "vllm")],
        "ruleType": [case("REASONING", lambda r, w: r.rule_type == ParserRuleType.REASONING.value)],
        "parser": [case("hermes", lambda r, w: r.parser == "hermes")],
        "enabled": [case(True, lambda r, w: r.enabled), case(False, lambda r, w: not r.enabled)],
        "search": [case("deepseek", lambda r, w: contains("deepseek", r.pattern))],
    },
    "ModelFilter": {
        "search": [case("qwen", lambda r, w: contains("qwen", r.uri, r.author))],
        "sourceKinds": [case(["URL"], lambda r, w: r.source_kind in stored(ModelSource, ["URL"]))],
        "architectures": [
            case(["Qwen2ForCausalLM"], lambda r, w: r.architecture == "Qwen2ForCausalLM"),
        ],
        "families": [
            case(
                ["llama"],
                lambda r, w: (arch := w.architecture(r.architecture)) is not None and arch.family == "llama",
            )
        ],
        "modalities": [
            case(
                ["VISION_LANGUAGE", "EMBEDDING"],
                lambda r, w: r.modality in stored(Modality, ["VISION_LANGUAGE", "EMBEDDING"]),
            )
        ],
        "statuses": [
            case(["READY", "FAILED"], lambda r, w: r.status in stored(ModelStatus, ["READY", "FAILED"]))
        ],
        "licenseKeys": [
            case(
                ["apache-2.0"], lambda r, w: (lic := license_of(r, w)) is not None and lic.key == "apache-2.0"
            )
        ],
        "licenseKinds": [
            case(
                ["RESTRICTED"],
                lambda r, w: (
                    (lic := license_of(r, w)) is not None and lic.kind == LicenseKind.RESTRICTED.value
                ),
            )
        ],
        "commercialUse": [
            case(False, lambda r, w: (lic := license_of(r, w)) is not None and not lic.commercial_use),
            case(True, lambda r, w: (lic := license_of(r, w)) is not None and lic.commercial_use),
        ],
        "minParameters": [
            case(
                8_000_000_000,
                lambda r, w: r.parameter_count is not None and r.parameter_count >= 8_000_000_000,
            )
        ],
        "maxParameters": [
            case(
                8_100_000_000,
                lambda r, w: r.parameter_count is not None and r.parameter_count <= 8_100_000_000,
            )
        ],
        "minContextLength": [
            case(100_000, lambda r, w: r.context_length is not None and r.context_length >= 100_000)
        ],
    },
    "LicenseFilter": {
        "search": [case("gpl", lambda r, w: contains("gpl", r.key, r.name))],
        "kinds": [case(["COPYLEFT"], lambda r, w: r.kind == LicenseKind.COPYLEFT.value)],
        "commercialUse": [case(False, lambda r, w: not r.commercial_use)],
    },
    "ProviderFilter": {
        "search": [case("ai", lambda r, w: contains("ai", r.name, r.slug))],
        "kinds": [case(["COMPUTE_CLOUD"], lambda r, w: r.kind == ProviderKind.COMPUTE_CLOUD.value)],
    },
    "ProviderModelFilter": {
        "search": [case("gemini-1.5", lambda r, w: contains("gemini-1.5", r.model_id))],
        "providerSlugs": [
            case(["fireworks_ai", "xai"], lambda r, w: provider_slug(r, w) in {"fireworks_ai", "xai"})
        ],
        "modes": [
            case(
                ["EMBEDDING", "RERANK"],
                lambda r, w: r.mode in stored(ProviderModelMode, ["EMBEDDING", "RERANK"]),
            )
        ],
        "minInputPerMillion": [case("10", lambda r, w: at_least(r.input_per_million, "10"))],
        "maxInputPerMillion": [case("0.1", lambda r, w: at_most(r.input_per_million, "0.1"))],
        "minOutputPerMillion": [case("30", lambda r, w: at_least(r.output_per_million, "30"))],
        "maxOutputPerMillion": [case("0.5", lambda r, w: at_most(r.output_per_million, "0.5"))],
        "minContext": [
            case(1_000_000, lambda r, w: r.max_input_tokens is not None and r.max_input_tokens >= 1_000_000)
        ],
        "supportsFunctionCalling": [case(True, lambda r, w: r.supports_function_calling)],
        "supportsVision": [case(False, lambda r, w: not r.supports_vision)],
        "supportsReasoning": [case(True, lambda r, w: r.supports_reasoning)],
        "includeDeprecated": [
            case(False, lambda r, w: r.deprecation_date is None or r.deprecation_date > w.today),
        ],
    },
    "HardwareFilter": {
        "search": [case("nvidia h1", lambda r, w: contains("nvidia h1", r.name, r.sku, r.vendor))],
        "vendors": [case(["AMD"], lambda r, w: r.vendor.lower() == "amd")],
        "deviceArchitectures": [case(["HPU"], lambda r, w: r.device_architecture == "HPU")],
        "minMemoryGb": [case("96", lambda r, w: at_least(r.memory_gb, "96"))],
        "maxMemoryGb": [case("64", lambda r, w: at_most(r.memory_gb, "64"))],
        "minComputeCapability": [
            case("8.9", lambda r, w: (cc := capability(r.compute_capability)) is not None and cc >= (8, 9))
        ],
        "minBf16Tflops": [case("900", lambda r, w: at_least(r.peak_bf16_tflops, "900"))],
    },
    "HardwarePriceFilter": {
        "skus": [
            case(["nvidia-h100-sxm5-80gb"], lambda r, w: hardware_of(r, w).sku == "nvidia-h100-sxm5-80gb")
        ],
        "providerSlugs": [case(["lambda"], lambda r, w: provider_slug(r, w) == "lambda")],
        "regions": [case(["us-west-1"], lambda r, w: r.region == "us-west-1")],
        "deviceArchitectures": [
            case(["ROCM", "HPU"], lambda r, w: hardware_of(r, w).device_architecture in {"ROCM", "HPU"})
        ],
        "minOnDemandPerHour": [case("3", lambda r, w: at_least(r.on_demand_per_hour, "3"))],
        "maxOnDemandPerHour": [case("2.5", lambda r, w: at_most(r.on_demand_per_hour, "2.5"))],
        "asOf": [
            case("2024-06-30", lambda r, w: in_effect(r, w, "2024-06-30")),
            case("2023-12-31", lambda r, w: in_effect(r, w, "2023-12-31")),
        ],
        "currentOnly": [case(True, lambda r, w: in_effect(r, w, None))],
    },
    "JobFilter": {
        "statuses": [
            case(["QUEUED", "RUNNING"], lambda r, w: r.status in stored(JobStatus, ["QUEUED", "RUNNING"]))
        ],
        "kinds": [case(["SCAN"], lambda r, w: r.kind == JobKind.SCAN.value)],
        "modelIds": [
            case(
                lambda w: model_ids(w, [LLAMA, DEEPSEEK]),
                lambda r, w: r.model_id in {w.one(db.Model, uri=LLAMA).id, w.one(db.Model, uri=DEEPSEEK).id},
            )
        ],
    },
    "BenchmarkFilter": {
        "search": [case("arena", lambda r, w: contains("arena", r.key, r.name))],
        "sources": [case(["bfcl", "mteb"], lambda r, w: r.source_key in {"bfcl", "mteb"})],
        "categories": [case(["coding"], lambda r, w: r.category == "coding")],
    },
    "LeaderboardEntryFilter": {
        "search": [case("llama", lambda r, w: contains("llama", r.raw_model_name))],
        "matchedOnly": [case(True, lambda r, w: r.model_id is not None)],
        "modelIds": [
            case(
                lambda w: model_ids(w, [QWEN]),
                lambda r, w: r.model_id == w.one(db.Model, uri=QWEN).id,
            )
        ],
    },
    "ApiKeyFilter": {
        "statuses": [
            case(["EXPIRED"], lambda r, w: key_status(r) == "expired"),
            case(["ACTIVE", "REVOKED"], lambda r, w: key_status(r) in {"active", "revoked"}),
        ],
        "scopes": [case(["WRITE", "ADMIN"], lambda r, w: r.scope in {"write", "admin"})],
    },
    "ApiKeyEventFilter": {
        "keyNames": [
            case(["ci-bot", "old-runtime"], lambda r, w: key_name(r, w) in {"ci-bot", "old-runtime"})
        ],
        "kinds": [
            case(
                ["REVOKED", "RATE_LIMIT_CHANGED"],
                lambda r, w: (
                    r.kind in {ApiKeyEventKind.REVOKED.value, ApiKeyEventKind.RATE_LIMIT_CHANGED.value}
                ),
            )
        ],
        "occurredAfter": [
            case(
                "2024-03-11T00:00:00+00:00", lambda r, w: r.occurred_at > moment("2024-03-11T00:00:00+00:00")
            )
        ],
        "occurredBefore": [
            case("2024-02-11T12:00:00Z", lambda r, w: r.occurred_at < moment("2024-02-11T12:00:00+00:00"))
        ],
    },
}
