"""Regenerate budgraph's generated seed files from the predecessor services' reference data.

    python -m budgraph.seeds.build_from_reference /path/to/shared/reference

Only facts are carried over (ids, names, versions, architecture lists, flags, prices, limits); upstream
prose (license FAQs/descriptions, model details, provider marketing text) never reaches the output. Every
record carries `source` and `source_url`. The hand-curated `hardware.json` and `hardware_prices.json` are
only read (to check their provider slugs), never written.

The upstream files stay as they are; what fails a sanity check is corrected or rejected here, and each
such change is written with its reason to `corrections.json` (see seeds/corrections.py).
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from budgraph.compatibility.patterns import UnusablePattern, compiled
from budgraph.kit.versions import version_key
from budgraph.seeds.corrections import CORRECTED, REJECTED, Corrections
from budgraph.seeds.price_checks import check_output_below_input, prices_of
from budgraph.seeds.rule_fixes import base_id_rules

Record = dict[str, Any]

DATA_DIR = Path(__file__).resolve().parent / "data"
BUD_CONNECT_COMMIT = "4b7e62d1e1f4b638824fe786643391a398b51e9c"
BUD_RUNTIME_COMMIT = "3b8a3f9d339914c9a9137aeb3ac5bd52cbc3b938"
DEVICES = {"CUDA", "ROCM", "CPU", "HPU"}
ENDPOINTS = {"CHAT", "COMPLETION", "EMBEDDING", "CLASSIFY", "RERANK", "TRANSCRIPTION", "RESPONSES"}
PROVIDER_MODEL_MODES = {"chat", "completion", "embedding", "responses", "rerank", "moderation"}

# Display names and homepages are not in the reference data: curated.
ENGINE_INFO: dict[str, tuple[str, str | None]] = {
    "vllm": ("vLLM", "https://github.com/vllm-project/vllm"),
    "latentbud": ("LatentBud", None),
    "tensorzero": ("TensorZero", "https://github.com/tensorzero/tensorzero"),
}
# The predecessor's vLLM builds list one architecture list (vLLM's latest registry, 361 names) for
# both versions. Each image's tag names the vLLM release it packages, whose own registry is shipped
# (budgraph/releases/sources): the seed derives their architectures, endpoints and quantization from
# that release instead.
PACKAGED_RELEASES: dict[tuple[str, str, str], str] = {
    ("vllm", "0.8.0", "CUDA"): "0.8.0",
    ("vllm", "0.5.0", "CPU"): "0.5.0",
}

CURATED_ENGINES: dict[str, tuple[str, str]] = {
    "sglang": ("SGLang", "https://github.com/sgl-project/sglang"),
    "llamacpp": ("llama.cpp", "https://github.com/ggml-org/llama.cpp"),
    "tensorrt-llm": ("TensorRT-LLM", "https://github.com/NVIDIA/TensorRT-LLM"),
}

# Our own classification: id -> (kind, commercial_use). Upstream's "type" field is wrong in places: ignored.
P, C, R, X = "permissive", "copyleft", "restricted", "proprietary"
LICENSE_CLASS: dict[str, tuple[str, bool]] = {
    **{
        i: (P, True)
        for i in (
            "apache-2.0",
            "mit",
            "afl-3.0",
            "artistic-2.0",
            "bsl-1.0",
            "bsd",
            "bsd-2-clause",
            "bsd-3-clause",
            "bsd-3-clause-clear",
            "cc0-1.0",
            "cc-by-2.0",
            "cc-by-2.5",
            "cc-by-3.0",
            "cc-by-4.0",
            "cdla-permissive-1.0",
            "cdla-permissive-2.0",
            "wtfpl",
            "ecl-2.0",
            "etalab-2.0",
            "isc",
            "lppl-1.3c",
            "apple-ascl",
            "odc-by",
            "postgresql",
            "ncsa",
            "unlicense",
            "zlib",
            "pddl",
        )
    },
    **{
        i: (C, True)
        for i in (
            "cc-by-sa-3.0",
            "cc-by-sa-4.0",
            "cdla-sharing-1.0",
            "epl-1.0",
            "epl-2.0",
            "eupl-1.1",
            "agpl-3.0",
            "gfdl",
            "gpl",
            "gpl-2.0",
            "gpl-3.0",
            "lgpl",
            "lgpl-2.1",
            "lgpl-3.0",
            "ms-pl",
            "mpl-2.0",
            "odbl",
            "osl-3.0",
            "ofl-1.1",
            "lgpl-lr",
        )
    },
    # Use-restricted but commercially usable (OpenRAIL, community licenses, data-use agreements).
    **{
        i: (R, True)
        for i in (
            "openrail",
            "bigscience-openrail-m",
            "creativeml-openrail-m",
            "bigscience-bloom-rail-1.0",
            "bigcode-openrail-m",
            "openrail++",
            "c-uda",
            "cc-by-nd-4.0",
            "llama2",
            "llama3",
            "llama3.1",
            "llama3.2",
            "llama3.3",
            "llama4",
            "gemma",
            "tongyi-qianwen",
            "databricks",
            "deepseek",
            "deepseek-custom",
        )
    },
    # Non-commercial / research-only. "cc" is the whole Creative Commons family: classified conservatively.
    **{
        i: (R, False)
        for i in (
            "cc",
            "cc-by-nc-2.0",
            "cc-by-nc-3.0",
            "cc-by-nc-4.0",
            "cc-by-nc-nd-3.0",
            "cc-by-nc-nd-4.0",
            "cc-by-nc-sa-2.0",
            "cc-by-nc-sa-3.0",
            "cc-by-nc-sa-4.0",
            "intel-research",
            "deepfloyd-if-license",
            "apple-amlr",
            "fair-noncommercial-research-license",
            "mistral-research",
            "meta-noncommercial",
        )
    },
    # Closed vendor terms; commercial use is allowed through the vendor's paid service.
    **{
        i: (X, True)
        for i in (
            "amazon-proprietary",
            "google-proprietary",
            "openai-proprietary",
            "cohere-proprietary",
            "mistral-ai-proprietary",
            "reka-ai-proprietary",
            "zhipu-ai-proprietary",
            "xai-proprietary",
            "alibaba-proprietary",
            "openai-api",
        )
    },
}
# Upstream vendor pseudo-ids (name "Propriatary") -> (our id, our name).
LICENSE_PSEUDO_IDS: dict[str, tuple[str, str]] = {
    "Amazon": ("amazon-proprietary", "Amazon proprietary terms"),
    "Google": ("google-proprietary", "Google proprietary terms"),
    "Openai": ("openai-proprietary", "OpenAI proprietary terms"),
    "Cohere": ("cohere-proprietary", "Cohere proprietary terms"),
    "mistral ai": ("mistral-ai-proprietary", "Mistral AI proprietary terms"),
    "Reka AI": ("reka-ai-proprietary", "Reka AI proprietary terms"),
    "Zhipu AI": ("zhipu-ai-proprietary", "Zhipu AI proprietary terms"),
    "xAI": ("xai-proprietary", "xAI proprietary terms"),
    "Alibaba": ("alibaba-proprietary", "Alibaba proprietary terms"),
    "Meta": ("meta-noncommercial", "Meta non-commercial license"),
}
# Not a license: its URL and the analysed text are Anthropic's privacy policy.
LICENSE_EXCLUDED = {"Anthropic"}
# Upstream URLs that point at the wrong document (None = no trustworthy URL).
LICENSE_URL_FIXES: dict[str, str | None] = {
    "lgpl": None,  # upstream: the GFDL 1.1 text
    "lgpl-3.0": "https://www.gnu.org/licenses/lgpl-3.0.txt",  # upstream: non-existent old-licenses path
    "apple-ascl": None,  # upstream: the Apple Public Source License, a different license
}
# Upstream filed the Mistral Research License name under Mistral's API terms.
LICENSE_ALIAS_MOVES: dict[str, tuple[str, str]] = {
    "Mistral Research License": ("mistral-ai-proprietary", "mistral-research"),
}

# Homepages of the model-API providers (not in the reference data: curated).
PROVIDER_HOMEPAGES: dict[str, str] = {
    "anthropic": "https://www.anthropic.com",
    "azure": "https://azure.microsoft.com/en-us/products/ai-services/openai-service",
    "bedrock": "https://aws.amazon.com/bedrock/",
    "deepseek": "https://www.deepseek.com",
    "fireworks_ai-embedding-models": "https://fireworks.ai",
    "gemini": "https://ai.google.dev",
    "hyperbolicai": "https://hyperbolic.xyz",
    "mistral": "https://mistral.ai",
    "openai": "https://openai.com",
    "sagemaker": "https://aws.amazon.com/sagemaker/",
    "together_ai": "https://www.together.ai",
    "vertex_ai-anthropic_models": "https://cloud.google.com/vertex-ai",
    "vertex_ai-gemini-models": "https://cloud.google.com/vertex-ai",
    "xai": "https://x.ai",
}
# Compute clouds referenced by the hand-curated hardware_prices.json: slug -> (name, homepage, pricing page).
COMPUTE_CLOUDS: dict[str, tuple[str, str, str]] = {
    "aws": ("Amazon Web Services", "https://aws.amazon.com", "https://aws.amazon.com/ec2/pricing/on-demand/"),
    "gcp": (
        "Google Cloud",
        "https://cloud.google.com",
        "https://cloud.google.com/compute/vm-instance-pricing",
    ),
    "microsoft-azure": (
        "Microsoft Azure",
        "https://azure.microsoft.com",
        "https://azure.microsoft.com/en-us/pricing/details/virtual-machines/linux/",
    ),
    "oci": (
        "Oracle Cloud Infrastructure",
        "https://www.oracle.com/cloud/",
        "https://www.oracle.com/cloud/compute/pricing/",
    ),
    "lambda": ("Lambda", "https://lambda.ai", "https://lambdalabs.com/service/gpu-cloud"),
    "intel-tiber-ai-cloud": (
        "Intel Tiber AI Cloud",
        "https://www.intel.com/content/www/us/en/developer/tools/tiber/ai-cloud.html",
        "https://www.intel.com/content/www/us/en/developer/tools/tiber/ai-cloud.html",
    ),
}
# LiteLLM route prefix carried by upstream `original_key`s, stripped to get the provider's own model id.
ROUTE_PREFIXES: dict[str, str] = {
    "azure": "azure/",
    "bedrock": "bedrock/",
    "deepseek": "deepseek/",
    "gemini": "gemini/",
    "fireworks_ai-embedding-models": "fireworks_ai/",
    "hyperbolicai": "hyperbolic/",
    "mistral": "mistral/",
    "openai": "openai/",
    "sagemaker": "sagemaker/",
    "together_ai": "together_ai/",
    "xai": "xai/",
    "vertex_ai-anthropic_models": "vertex_ai/",
}
# LiteLLM per-size pricing buckets that are not models (e.g. "together-ai-4.1b-8b").
PRICING_TIER_KEY = re.compile(r"^(together-ai|fireworks-ai)-")
# Upstream provider slugs that name the wrong thing: upstream slug -> (our slug, why).
PROVIDER_SLUG_FIXES: dict[str, tuple[str, str]] = {
    "fireworks_ai-embedding-models": (
        "fireworks_ai",
        "upstream files all of Fireworks' models (238 of them chat models) under LiteLLM's embedding-only"
        " slug; Fireworks serves them on one API",
    ),
}
PROVIDER_HOMEPAGES["fireworks_ai"] = PROVIDER_HOMEPAGES.pop("fireworks_ai-embedding-models")


class Origin:
    """Where a record's facts come from: a reference file at its pinned upstream commit."""

    def __init__(self, repo: str, commit: str, repo_path: str, label: str, local: Path) -> None:
        self.source = f"{label} @{commit[:7]}"
        self.url = f"https://github.com/BudEcosystem/{repo}/blob/{commit}/{repo_path}"
        self.local = local

    def load(self) -> Any:
        return json.loads(self.local.read_text(encoding="utf-8"))


def _origins(reference: Path) -> dict[str, Origin]:
    def bud_connect(path: str) -> Origin:
        label = "bud-connect " + path.removeprefix("budconnect/seeders/data/")
        return Origin("bud-connect", BUD_CONNECT_COMMIT, path, label, reference / "bud-connect" / path)

    def budmodel(path: str) -> Origin:
        repo_path = f"services/budmodel/{path}"
        local = reference / "budmodel" / path
        return Origin("bud-runtime", BUD_RUNTIME_COMMIT, repo_path, f"budmodel {path}", local)

    return {
        "engines": bud_connect("budconnect/seeders/data/engines.json"),
        "architectures": bud_connect("budconnect/seeders/data/model_architectures.json"),
        "licenses": bud_connect("budconnect/seeders/data/licenses.json"),
        "tz_models": bud_connect("budconnect/seeders/data/tensorzero/tensorzero_v_0_1_0.json"),
        "tz_providers": bud_connect("budconnect/seeders/data/tensorzero/tensorzero_providers.json"),
        "bm_licenses": budmodel("seeders/licenses.json"),
        "bm_identifiers": budmodel("budmodel/model_info/identifiers.json"),
    }


def _unique(records: Iterable[Record], *keys: str) -> None:
    seen: set[tuple[Any, ...]] = set()
    for record in records:
        key = tuple(record[k] for k in keys)
        if key in seen:
            raise ValueError(f"duplicate {keys}: {key}")
        seen.add(key)


def build_architectures(origin: Origin) -> list[Record]:
    records = [
        {
            "class_name": arch["class_name"],
            # Two upstream rows carry a module path ("vllm.models.deepseek_v4") instead of a family name.
            "family": arch["architecture_family"].removeprefix("vllm.models."),
            "supports_lora": bool(arch["supports_lora"]),
            "supports_pipeline_parallelism": bool(arch["supports_pipeline_parallelism"]),
            "default_tool_call_parser": arch["tool_calling_parser_type"],
            "default_reasoning_parser": arch["reasoning_parser_type"],
            "source": origin.source,
            "source_url": origin.url,
        }
        for arch in origin.load()["architectures"]
    ]
    _unique(records, "class_name")
    return sorted(records, key=lambda r: r["class_name"])


def build_parser_rules(origin: Origin, corrections: Corrections) -> list[Record]:
    records: list[Record] = base_id_rules(origin.source, origin.url, corrections)
    for engine in origin.load():
        for rule in engine.get("parser_rules", []):
            if rule["rule_type"] not in {"tool", "reasoning"}:
                raise ValueError(f"unknown rule type: {rule}")
            if rule["match_type"] not in {"exact", "prefix", "regex"}:
                raise ValueError(f"unknown match type: {rule}")
            if rule["match_type"] == "regex":
                try:
                    compiled(rule["pattern"])
                except UnusablePattern as error:
                    raise ValueError(f"regex rule RE2 cannot match: {rule} ({error})") from None
            records.append(
                {
                    "engine": engine["name"],
                    "rule_type": rule["rule_type"],
                    "parser": rule["parser_type"],
                    "match_type": rule["match_type"],
                    "pattern": rule["pattern"],
                    "priority": int(rule["priority"]),
                    "enabled": bool(rule["enabled"]),
                    "notes": rule.get("notes") or "",
                    "chat_template": rule.get("chat_template"),
                    "source": origin.source,
                    "source_url": origin.url,
                }
            )
    _unique(records, "engine", "rule_type", "match_type", "pattern")
    return sorted(records, key=lambda r: (r["engine"], r["rule_type"], r["pattern"], r["match_type"]))


def build_engines(origin: Origin, architectures: list[Record], rules: list[Record]) -> list[Record]:
    defaults = {a["class_name"]: a for a in architectures}
    engines: list[Record] = []
    for engine in origin.load():
        slug = engine["name"]
        name, homepage = ENGINE_INFO[slug]
        engine_rules = [r for r in rules if r["engine"] == slug]
        versions: list[Record] = []
        for version in engine["versions"]:
            if version["device_architecture"] not in DEVICES:
                raise ValueError(f"unknown device architecture: {version}")
            compat = version["compatibilities"]
            archs = sorted({a for c in compat for a in c["architecture"]})
            endpoints = sorted({e.upper() for c in compat for e in c.get("supported_endpoints") or []})
            if unknown := set(endpoints) - ENDPOINTS:
                raise ValueError(f"unknown endpoints {unknown} in {slug} {version['version']}")
            record: Record = {
                "version": version["version"],
                "device_architecture": version["device_architecture"],
                "container_image": version["container_image"],
                "release_date": None,
                "status": "active",
                "architectures": archs,
                "endpoints": endpoints,
                "features": sorted({f for c in compat for f in c.get("features") or []}),
                "tool_call_parsers": [],
                "reasoning_parsers": [],
                "source": origin.source,
                "source_url": origin.url,
            }
            if engine_rules:
                for kind, field, default in (
                    ("tool", "tool_call_parsers", "default_tool_call_parser"),
                    ("reasoning", "reasoning_parsers", "default_reasoning_parser"),
                ):
                    from_rules = {r["parser"] for r in engine_rules if r["rule_type"] == kind}
                    from_archs = {defaults[a][default] for a in archs if defaults[a][default] is not None}
                    record[field] = sorted(from_rules | from_archs)
                record["source"] = f"{origin.source}; parsers derived: parser rules + architecture defaults"
            packaged = PACKAGED_RELEASES.get((slug, version["version"], version["device_architecture"]))
            if packaged is not None:
                record["upstream_release"] = packaged
                record["architectures"] = []  # the release's own, not the predecessor's list
                record["endpoints"] = []
                record["source"] += (
                    f"; packages {slug} {packaged} (the image tag), whose code gives its compatibility"
                )
            versions.append(record)
        # Equal versions (`0.10`, `0.10.0`) are one version: unique by version order.
        for version in versions:
            version["_key"] = version_key(version["version"])
        _unique(versions, "_key", "device_architecture")
        versions.sort(key=lambda v: (v.pop("_key"), v["device_architecture"]))
        engines.append(
            {
                "slug": slug,
                "name": name,
                "homepage_url": homepage,
                "versions": versions,
                "source": f"{origin.source} (name, homepage_url curated)",
                "source_url": origin.url,
            }
        )
    for slug, (name, homepage) in CURATED_ENGINES.items():
        engines.append(
            {
                "slug": slug,
                "name": name,
                "homepage_url": homepage,
                "versions": [],
                "source": "curated",
                "source_url": homepage,
            }
        )
    _unique(engines, "slug")
    return sorted(engines, key=lambda e: e["slug"])


def _aliases(names: Iterable[str]) -> list[str]:
    # Exact-string dedupe: case variants ("MIT", "mit") are kept for case-sensitive matchers.
    return sorted({n.strip() for n in names if n.strip()}, key=lambda n: (n.casefold(), n))


def build_licenses(connect: Origin, seeded: Origin, identifiers: Origin) -> list[Record]:
    merged: dict[str, dict[str, Any]] = {}
    for origin, rows in (
        (connect, connect.load()["licenses"]),
        (seeded, seeded.load()),
        (identifiers, identifiers.load()),
    ):
        for row in rows:
            upstream_id = row["license_id"]
            if upstream_id in LICENSE_EXCLUDED:
                continue
            our_id, pseudo_name = LICENSE_PSEUDO_IDS.get(upstream_id, (upstream_id, None))
            entry = merged.setdefault(
                our_id, {"names": [], "aliases": [our_id, upstream_id], "origins": [], "url": None}
            )
            entry["names"].append(pseudo_name or row["license_name"])
            entry["aliases"].extend(row.get("potential_names") or [])
            if origin not in entry["origins"]:
                entry["origins"].append(origin)
            if row.get("license_url"):
                entry["url"] = row["license_url"]
    for alias, (from_id, to_id) in LICENSE_ALIAS_MOVES.items():
        merged[from_id]["aliases"] = [a for a in merged[from_id]["aliases"] if a != alias]
        merged[to_id]["aliases"].append(alias)
    records: list[Record] = []
    for license_id, entry in merged.items():
        if license_id not in LICENSE_CLASS:
            raise KeyError(f"license {license_id!r} has no entry in LICENSE_CLASS")
        kind, commercial = LICENSE_CLASS[license_id]
        origins: list[Origin] = entry["origins"]
        records.append(
            {
                "id": license_id,
                "name": entry["names"][0],
                "url": LICENSE_URL_FIXES.get(license_id, entry["url"]),
                "kind": kind,
                "commercial_use": commercial,
                "aliases": _aliases(entry["aliases"]),
                "source": "; ".join(o.source for o in origins),
                "source_url": origins[0].url,
            }
        )
    if stale := set(LICENSE_CLASS) - set(merged):
        raise KeyError(f"LICENSE_CLASS has ids not in the reference: {sorted(stale)}")
    seen: dict[str, str] = {}
    for record in records:
        for alias in record["aliases"]:
            if seen.setdefault(alias.casefold(), record["id"]) != record["id"]:
                raise ValueError(f"alias {alias!r} claimed by {seen[alias.casefold()]} and {record['id']}")
    return sorted(records, key=lambda r: r["id"])


def _tokens(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"non-integral token limit: {value}")
    return int(value)


def _flag(row: dict[str, Any], name: str) -> bool:
    value = row.get(name, False)
    if not isinstance(value, bool):
        raise ValueError(f"{name} is not a bool: {value!r}")
    return value


def build_provider_models(origin: Origin, corrections: Corrections) -> list[Record]:
    chosen: dict[tuple[str, str], tuple[bool, Record]] = {}
    for key, row in sorted(origin.load().items()):
        if row.get("mode") not in PROVIDER_MODEL_MODES:
            continue
        upstream_provider = row["litellm_provider"]
        original = (row.get("metadata") or {}).get("original_key") or key.removeprefix(
            f"{upstream_provider}/"
        )
        if PRICING_TIER_KEY.match(original):
            continue
        prefix = ROUTE_PREFIXES.get(upstream_provider, "\0")
        native = not original.startswith(prefix)
        model_id = original.removeprefix(prefix)
        if not model_id.strip() or model_id.endswith("/"):
            corrections.note(
                "provider_models.json", key, "model_id", model_id, None, REJECTED,
                "not a model id: it names no model (nothing after the account's models path)",
            )  # fmt: skip
            continue
        provider = upstream_provider
        if provider in PROVIDER_SLUG_FIXES:
            provider, why = PROVIDER_SLUG_FIXES[provider]
            corrections.note(
                "provider_models.json", key, "provider", upstream_provider, provider, CORRECTED, why
            )
        record: Record = {
            "provider": provider,
            "model_id": model_id,
            "mode": row["mode"],
            **prices_of(row, key, corrections),
            "max_input_tokens": _tokens(row.get("max_input_tokens")),
            "max_output_tokens": _tokens(row.get("max_output_tokens")),
            "supports_function_calling": _flag(row, "supports_function_calling"),
            "supports_vision": _flag(row, "supports_vision"),
            "supports_reasoning": _flag(row, "supports_reasoning"),
            "supports_prompt_caching": _flag(row, "supports_prompt_caching"),
            "supports_response_schema": _flag(row, "supports_response_schema"),
            "deprecation_date": row.get("deprecation_date"),
            "source": origin.source,
            "source_url": origin.url,
        }
        deprecation = record["deprecation_date"]
        if deprecation is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", deprecation):
            raise ValueError(f"bad deprecation_date for {key}: {deprecation}")
        # Duplicate (provider, model_id): the entry upstream keyed without the route prefix wins.
        previous = chosen.get((provider, model_id))
        if previous is None or (native and not previous[0]):
            chosen[(provider, model_id)] = (native, record)
    records = sorted((r for _, r in chosen.values()), key=lambda r: (r["provider"], r["model_id"]))
    check_output_below_input(records, corrections)
    return records


def build_providers(origin: Origin, provider_models: list[Record]) -> list[Record]:
    definitions = origin.load()
    for upstream, (ours, _) in PROVIDER_SLUG_FIXES.items():
        definitions[ours] = definitions.pop(upstream)
    used = {m["provider"] for m in provider_models}
    if missing := used - set(definitions):
        raise KeyError(f"provider models reference undefined providers: {sorted(missing)}")
    records: list[Record] = [
        {
            "slug": slug,
            "name": definitions[slug]["name"],
            "kind": "model_api",
            "homepage_url": PROVIDER_HOMEPAGES.get(slug),
            "source": f"{origin.source} (homepage_url curated)",
            "source_url": origin.url,
        }
        for slug in used
    ]
    records += [
        {
            "slug": slug,
            "name": name,
            "kind": "compute_cloud",
            "homepage_url": homepage,
            "source": "curated",
            "source_url": pricing,
        }
        for slug, (name, homepage, pricing) in COMPUTE_CLOUDS.items()
    ]
    _unique(records, "slug")
    return sorted(records, key=lambda r: r["slug"])


def _check_references(engines: list[Record], architectures: list[Record], providers: list[Record]) -> None:
    known = {a["class_name"] for a in architectures}
    for engine in engines:
        for version in engine["versions"]:
            if missing := set(version["architectures"]) - known:
                where = f"{engine['slug']} {version['version']} {version['device_architecture']}"
                raise ValueError(f"{where}: unknown architectures {sorted(missing)}")
    prices = DATA_DIR / "hardware_prices.json"
    if prices.exists():
        clouds = {p["slug"] for p in providers if p["kind"] == "compute_cloud"}
        for price in json.loads(prices.read_text(encoding="utf-8"))["records"]:
            if price["provider"] not in clouds:
                raise ValueError(f"hardware_prices.json: unknown compute cloud {price['provider']!r}")


def _write(out: Path, name: str, records: list[Record]) -> None:
    text = json.dumps({"records": records}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out / name).write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("reference", type=Path, help="the shared/reference directory")
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write (default: seeds/data)")
    args = parser.parse_args(argv)
    origins = _origins(args.reference)
    corrections = Corrections()
    architectures = build_architectures(origins["architectures"])
    rules = build_parser_rules(origins["engines"], corrections)
    engines = build_engines(origins["engines"], architectures, rules)
    licenses = build_licenses(origins["licenses"], origins["bm_licenses"], origins["bm_identifiers"])
    provider_models = build_provider_models(origins["tz_models"], corrections)
    providers = build_providers(origins["tz_providers"], provider_models)
    _check_references(engines, architectures, providers)
    outputs = {
        "engines.json": engines,
        "architectures.json": architectures,
        "parser_rules.json": rules,
        "licenses.json": licenses,
        "providers.json": providers,
        "provider_models.json": provider_models,
        "corrections.json": corrections.records(),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, records in outputs.items():
        _write(args.out, name, records)
        print(f"{name}: {len(records)} records")


if __name__ == "__main__":
    main()
