"""Synthetic catalogue rows around the real seed: engines, their versions (some pre-releases, some
deprecated), architectures, compatibility edges, hardware SKUs and their prices.

Every function takes what already exists (so seed rows are counted and never duplicated) and the
next free id, and returns rows as column -> value dicts, ids included, that satisfy the tables'
NOT NULL, unique and check constraints (COPY enforces them all: a bad row fails the load).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from budgraph.kit.versions import version_key

Row = dict[str, Any]
SOURCE = "budgraph bench generator"

ENGINES = [
    ("lmdeploy", "LMDeploy", "https://github.com/InternLM/lmdeploy"),
    ("mlc-llm", "MLC LLM", "https://llm.mlc.ai"),
    ("exllamav2", "ExLlamaV2", "https://github.com/turboderp/exllamav2"),
    ("ctranslate2", "CTranslate2", "https://github.com/OpenNMT/CTranslate2"),
    ("text-generation-inference", "Text Generation Inference", "https://github.com/huggingface/tgi"),
    ("deepspeed-mii", "DeepSpeed-MII", "https://github.com/microsoft/DeepSpeed-MII"),
    ("openvino-ms", "OpenVINO Model Server", "https://github.com/openvinotoolkit/model_server"),
    ("aphrodite", "Aphrodite Engine", "https://github.com/PygmalionAI/aphrodite-engine"),
    ("lorax", "LoRAX", "https://github.com/predibase/lorax"),
    ("nanoflow", "NanoFlow", "https://github.com/efeslab/Nanoflow"),
]
DEVICES = ["CUDA", "CUDA", "ROCM", "CPU", "HPU"]
TOOL_PARSERS = ["hermes", "llama3_json", "mistral", "pythonic", "qwen3_coder"]
REASONING_PARSERS = ["deepseek_r1", "qwen3", "granite"]
ARCH_WORDS = ["Aurora", "Borealis", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Helix", "Ion", "Juniper"]
HARDWARE_LINES = {
    "CUDA": ("nvidia", ["a10g", "l4", "l40s", "a100", "h100", "h200", "b200", "rtx-6000"]),
    "ROCM": ("amd", ["mi210", "mi250x", "mi300x", "mi325x"]),
    "HPU": ("intel", ["gaudi2", "gaudi3"]),
    "CPU": ("intel", ["xeon-8480", "xeon-6980p", "epyc-9654"]),
}
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1"]


@dataclass(frozen=True)
class Existing:
    """What the seed left, as the generator needs it."""

    engines: dict[str, int]  # slug -> id
    version_keys: set[tuple[int, str, str]]  # (engine id, version key, device)
    version_counts: dict[int, int]  # engine id -> versions
    architectures: dict[str, int]  # class name -> id
    rule_parsers: dict[int, tuple[list[str], list[str]]]  # engine id -> (tool, reasoning) parsers
    skus: set[str]
    hardware: list[tuple[int, str]]  # (id, device)
    providers: list[tuple[int, str]]  # (id, slug)
    price_keys: set[tuple[int, int, str, str, date]]


def engines(rng: random.Random, existing: Existing, target: int, next_id: int) -> list[Row]:
    missing = [entry for entry in ENGINES if entry[0] not in existing.engines]
    return [
        {
            "id": next_id + i,
            "slug": slug,
            "name": name,
            "homepage_url": url,
            "origin": "api",
            "source": SOURCE,
        }
        for i, (slug, name, url) in enumerate(missing[: max(0, target - len(existing.engines))])
    ]


def _version_names(rng: random.Random) -> list[str]:
    """An engine's release history: minors with patches, some release candidates before them."""
    names: list[str] = []
    major = rng.choice([0, 0, 1])
    for minor in range(1, 40):
        if rng.random() < 0.25:
            names.append(f"{major}.{minor}.0rc1")
        names.extend(f"{major}.{minor}.{patch}" for patch in range(rng.randint(1, 3)))
    return names


def engine_versions(
    rng: random.Random, existing: Existing, engine_ids: dict[str, int], target: int, next_id: int
) -> list[Row]:
    """Versions spread over every engine until there are ``target`` in all."""
    counts = {engine_id: existing.version_counts.get(engine_id, 0) for engine_id in engine_ids.values()}
    quota = max(0, target - sum(counts.values()))
    slugs = {engine_id: slug for slug, engine_id in engine_ids.items()}
    histories = {engine_id: iter(_version_names(rng)) for engine_id in sorted(counts)}
    taken = set(existing.version_keys)
    rows: list[Row] = []
    released = {engine_id: date(2023, 1, 2) for engine_id in counts}
    while len(rows) < quota:
        engine_id = min(counts, key=lambda e: (counts[e], e))
        name = next(histories[engine_id])
        key = version_key(name)
        released[engine_id] += timedelta(days=rng.randint(5, 20))
        for device in dict.fromkeys(["CUDA", *rng.sample(DEVICES, 2)]):
            if len(rows) == quota or (engine_id, key, device) in taken:
                continue
            taken.add((engine_id, key, device))
            counts[engine_id] += 1
            tools, reasonings = existing.rule_parsers.get(engine_id, (TOOL_PARSERS, REASONING_PARSERS))
            status = rng.choices(["active", "deprecated", "yanked"], weights=[85, 10, 5])[0]
            rows.append(
                {
                    "id": next_id + len(rows),
                    "engine_id": engine_id,
                    "version": name,
                    "version_key": key,
                    "device_architecture": device,
                    "container_image": f"budstudio/{slugs[engine_id]}-{device.lower()}:{name}",
                    "release_date": released[engine_id],
                    "status": status,
                    "endpoints": ["CHAT", "COMPLETION"] + (["EMBEDDING"] if rng.random() < 0.3 else []),
                    "features": ["lora"] if rng.random() < 0.5 else [],
                    "tool_call_parsers": sorted(rng.sample(tools, min(len(tools), 3))),
                    "reasoning_parsers": sorted(rng.sample(reasonings, min(len(reasonings), 2))),
                    "origin": "api",
                    "source": SOURCE,
                }
            )
    return rows


def architectures(rng: random.Random, existing: Existing, target: int, next_id: int) -> list[Row]:
    rows: list[Row] = []
    number = 1
    while len(existing.architectures) + len(rows) < target:
        word = ARCH_WORDS[number % len(ARCH_WORDS)]
        class_name = f"{word}{number}ForCausalLM"
        number += 1
        if class_name in existing.architectures:
            continue
        rows.append(
            {
                "id": next_id + len(rows),
                "class_name": class_name,
                "family": word.lower(),
                "supports_lora": rng.random() < 0.6,
                "supports_pipeline_parallelism": rng.random() < 0.5,
                "default_tool_call_parser": rng.choice([None, *TOOL_PARSERS]),
                "default_reasoning_parser": rng.choice([None, None, *REASONING_PARSERS]),
                "origin": "api",
                "source": SOURCE,
            }
        )
    return rows


def edges(rng: random.Random, version_ids: list[int], architecture_ids: list[int], next_id: int) -> list[Row]:
    """Each version serves a random half of the architectures."""
    rows: list[Row] = []
    for version_id in version_ids:
        for architecture_id in sorted(rng.sample(architecture_ids, len(architecture_ids) // 2)):
            rows.append(
                {
                    "id": next_id + len(rows),
                    "engine_version_id": version_id,
                    "architecture_id": architecture_id,
                    "origin": "api",
                    "source": SOURCE,
                }
            )
    return rows


def hardware(rng: random.Random, existing: Existing, target: int, next_id: int) -> list[Row]:
    rows: list[Row] = []
    taken = set(existing.skus)
    variant = 0
    while len(existing.skus) + len(rows) < target:
        variant += 1
        device = rng.choice(["CUDA", "CUDA", "CUDA", "ROCM", "HPU", "CPU"])
        vendor, lines = HARDWARE_LINES[device]
        line = rng.choice(lines)
        memory = rng.choice([24, 40, 48, 64, 80, 96, 128, 141, 192, 256])
        sku = f"{vendor}-{line}-{memory}gb-v{variant}"
        if sku in taken:
            continue
        taken.add(sku)
        rows.append(
            {
                "id": next_id + len(rows),
                "sku": sku,
                "name": f"{vendor.upper()} {line.upper()} {memory} GB (rev {variant})",
                "vendor": vendor,
                "device_architecture": device,
                "memory_gb": Decimal(memory),
                "memory_bandwidth_gbps": Decimal(rng.randint(300, 8000)),
                "peak_bf16_tflops": Decimal(rng.randint(20, 2500)),
                "peak_fp8_tflops": Decimal(rng.randint(40, 5000)) if device != "CPU" else None,
                "compute_capability": rng.choice(["8.0", "8.6", "8.9", "9.0", "10.0"])
                if device == "CUDA"
                else None,
                "devices_per_package": rng.choice([1, 1, 1, 2]),
                "tdp_watts": rng.randint(70, 1200),
                "release_year": rng.randint(2019, 2025),
                "origin": "api",
                "source": SOURCE,
            }
        )
    return rows


def hardware_prices(
    rng: random.Random, existing: Existing, hardware_ids: list[int], target: int, next_id: int
) -> list[Row]:
    rows: list[Row] = []
    taken = set(existing.price_keys)
    providers = existing.providers
    while len(existing.price_keys) + len(rows) < target:
        hardware_id = rng.choice(hardware_ids)
        provider_id, provider_slug = rng.choice(providers)
        region = rng.choice(REGIONS)
        devices = rng.choice([1, 2, 4, 8])
        instance_type = f"{provider_slug}-{hardware_id}-x{devices}"
        as_of = date(2025, 1, 1) + timedelta(days=30 * rng.randint(0, 11))
        key = (hardware_id, provider_id, region, instance_type, as_of)
        if key in taken:
            continue
        taken.add(key)
        on_demand = Decimal(rng.randint(20_000, 12_000_000)).scaleb(-6)
        rows.append(
            {
                "id": next_id + len(rows),
                "hardware_id": hardware_id,
                "provider_id": provider_id,
                "instance_type": instance_type,
                "devices_per_instance": devices,
                "region": region,
                "on_demand_per_hour": on_demand,
                "spot_per_hour": (on_demand * Decimal("0.4")).quantize(Decimal("0.000001"))
                if rng.random() < 0.5
                else None,
                "currency": "USD",
                "as_of": as_of,
                "origin": "api",
                "source": SOURCE,
            }
        )
    return rows
