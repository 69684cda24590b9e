"""Idempotent seeding of the registry from the files in ``seeds/data``.

Rows are matched on their natural keys. New rows are inserted with origin ``seed``; existing rows get
the seeded values except for the fields an operator edited (``edited_fields``). An engine version
whose compatibility an operator changed keeps its edges. Nothing is ever deleted, and a row an
operator deleted (a tombstone in the change log) is not created again, nor are the rows that
would refer to it. Seeding twice changes nothing, so it does not bump the registry version.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.base import Origin, ProvenanceMixin
from budgraph.kit.edits import apply_seed
from budgraph.kit.versions import version_key
from budgraph.providers.tiers import PriceTier, checked_tiers
from budgraph.registry.repository import deleted_by_operators, natural_key_of
from budgraph.releases import repository as releases_repository
from budgraph.releases import service as releases
from budgraph.releases import shipped_facts
from budgraph.releases.shipped_facts import FACTS_FILE
from budgraph.seeds.files import DATA_DIR, Record, date_or_none, decimal_or_none, origin_of, records

T = TypeVar("T", bound=ProvenanceMixin)


class SeedInconsistent(RuntimeError):
    """The seeded rows break a consistency rule (see ``releases.service.inconsistencies``)."""


@dataclass
class SeedReport:
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    kept_edits: Counter[str] = field(default_factory=Counter)
    kept_deletions: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.kept_edits))
        return [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated,"
            f" {self.kept_edits[kind]} operator-edited kept"
            for kind in kinds
        ] + [
            f"{kind}: {count} deleted by an operator, not created again"
            for kind, count in sorted(self.kept_deletions.items())
        ]


class Upserter:
    def __init__(self, session: AsyncSession, report: SeedReport) -> None:
        self.session = session
        self.report = report
        self.deleted: dict[str, set[str]] = {}

    async def existing(self, table: type[T], key: Callable[[T], Hashable]) -> dict[Hashable, T]:
        rows = (await self.session.scalars(select(table))).all()
        self.deleted[table.__name__] = await deleted_by_operators(self.session, table)
        return {key(row): row for row in rows}

    def upsert(
        self, table: type[T], found: dict[Hashable, T], key: Hashable, values: dict[str, Any]
    ) -> T | None:
        """The row with these values, or None if an operator deleted it (rows that refer to it are
        then skipped too)."""
        kind = table.__name__
        row = found.get(key)
        if row is None and natural_key_of(table, values) in self.deleted.get(kind, set()):
            self.report.kept_deletions[kind] += 1
            return None
        if row is None:
            row = table(**{**values, "origin": Origin.SEED.value})
            self.session.add(row)
            found[key] = row
            self.report.created[kind] += 1
            return row
        if apply_seed(row, values):
            self.report.updated[kind] += 1
        if set(row.edited_fields) & set(values):
            self.report.kept_edits[kind] += 1
        return row


async def seed(
    session: AsyncSession, data_dir: Path = DATA_DIR, releases_file: Path | None = FACTS_FILE
) -> SeedReport:
    """Seed the registry from ``data_dir``; ``releases_file`` holds the shipped releases' facts
    (``None``: record no release, e.g. for a test that records its own)."""
    report = SeedReport()
    up = Upserter(session, report)
    await _licenses(up, data_dir)
    architectures = await _architectures(up, data_dir)
    engines = await _engines(up, data_dir, architectures)
    await _engine_builds(up, data_dir, engines, architectures)
    await _releases(up, data_dir, engines, releases_file)
    await _quantization(up, data_dir, engines)
    await _parser_rules(up, data_dir, engines)
    providers = await _providers(up, data_dir)
    await _provider_models(up, data_dir, providers)
    hardware = await _hardware(up, data_dir)
    await _hardware_prices(up, data_dir, hardware, providers)
    await session.flush()
    problems = await releases.inconsistencies(session)
    if problems:
        raise SeedInconsistent("; ".join(problems))
    return report


async def _licenses(up: Upserter, data_dir: Path) -> None:
    found = await up.existing(db.License, lambda row: row.key)
    for record in records("licenses", data_dir):
        values = {
            "key": record["id"],
            "name": record["name"],
            "url": record["url"],
            "kind": record["kind"],
            "commercial_use": record["commercial_use"],
            "aliases": list(record["aliases"]),
            **origin_of(record),
        }
        up.upsert(db.License, found, record["id"], values)


async def _architectures(up: Upserter, data_dir: Path) -> dict[Hashable, db.ModelArchitecture]:
    found = await up.existing(db.ModelArchitecture, lambda row: row.class_name)
    for record in records("architectures", data_dir):
        values = {
            name: record[name]
            for name in (
                "class_name",
                "family",
                "supports_lora",
                "supports_pipeline_parallelism",
                "default_tool_call_parser",
                "default_reasoning_parser",
            )
        }
        up.upsert(db.ModelArchitecture, found, record["class_name"], {**values, **origin_of(record)})
    await up.session.flush()
    return found


async def _engines(
    up: Upserter, data_dir: Path, architectures: dict[Hashable, db.ModelArchitecture]
) -> dict[Hashable, db.Engine]:
    engines = await up.existing(db.Engine, lambda row: row.slug)
    # Keyed by version order, so a seeded `0.10.0` is the row an operator created as `0.10`.
    versions = await up.existing(
        db.EngineVersion, lambda row: (row.engine_id, row.version_key, row.device_architecture)
    )
    edges = {
        (edge.engine_version_id, edge.architecture_id)
        for edge in (await up.session.scalars(select(db.CompatibilityEdge))).all()
    }
    for record in records("engines", data_dir):
        values = {"slug": record["slug"], "name": record["name"], "homepage_url": record["homepage_url"]}
        engine = up.upsert(db.Engine, engines, record["slug"], {**values, **origin_of(record)})
        await up.session.flush()
        if engine is None:
            continue
        for item in record["versions"]:
            await _version_with_edges(up, engine, item, versions, edges, architectures)
    return engines


async def _version_with_edges(
    up: Upserter,
    engine: db.Engine,
    item: Record,
    versions: dict[Hashable, db.EngineVersion],
    edges: set[tuple[int, int]],
    architectures: dict[Hashable, db.ModelArchitecture],
) -> db.EngineVersion | None:
    """Upsert one seeded engine version and the edges it lists (unless an operator owns its
    compatibility, or an upstream release gives it)."""
    key_of_version = version_key(item["version"])
    key = (engine.id, key_of_version, item["device_architecture"])
    version_values = {
        "engine_id": engine.id,
        "version": item["version"],
        "version_key": key_of_version,
        "device_architecture": item["device_architecture"],
        "container_image": item["container_image"],
        "release_date": date_or_none(item["release_date"]),
        "status": item["status"],
        "endpoints": sorted(item["endpoints"]),
        "features": sorted(item["features"]),
        "tool_call_parsers": sorted(item["tool_call_parsers"]),
        "reasoning_parsers": sorted(item["reasoning_parsers"]),
        **origin_of(item),
    }
    if item.get("upstream_release") is not None and key in versions:
        del version_values["endpoints"]  # the release it packages gives them (``_releases``)
    version = up.upsert(db.EngineVersion, versions, key, version_values)
    await up.session.flush()
    if version is None:
        return None
    if "architectures" in version.edited_fields:
        up.report.kept_edits["CompatibilityEdge"] += 1
        return version
    if version.upstream_release_id is not None or item.get("upstream_release") is not None:
        return version  # its compatibility comes from its upstream release (releases/service.py)
    for class_name in item["architectures"]:
        arch = architectures.get(class_name)
        if arch is not None and (version.id, arch.id) not in edges:
            up.session.add(
                db.CompatibilityEdge(
                    engine_version_id=version.id,
                    architecture_id=arch.id,
                    origin=Origin.SEED.value,
                    **origin_of(item),
                )
            )
            edges.add((version.id, arch.id))
            up.report.created["CompatibilityEdge"] += 1
    return version


async def _engine_builds(
    up: Upserter,
    data_dir: Path,
    engines: dict[Hashable, db.Engine],
    architectures: dict[Hashable, db.ModelArchitecture],
) -> None:
    """Curated builds (official images per device, `engine_builds.json`). A build that names an
    upstream release derives its compatibility from it (``_releases``)."""
    versions = await up.existing(
        db.EngineVersion, lambda row: (row.engine_id, row.version_key, row.device_architecture)
    )
    edges = {
        (edge.engine_version_id, edge.architecture_id)
        for edge in (await up.session.scalars(select(db.CompatibilityEdge))).all()
    }
    for item in records("engine_builds", data_dir):
        engine = engines.get(item["engine"])
        if engine is not None:
            await _version_with_edges(up, engine, item, versions, edges, architectures)


async def _releases(
    up: Upserter, data_dir: Path, engines: dict[Hashable, db.Engine], releases_file: Path | None
) -> None:
    """Record every shipped release (what its own code declares, ``releases.json``), then make each
    seeded version that names its upstream release package it: its edges, endpoints and
    quantization support come from the release (an operator's edits still win)."""
    deleted = await deleted_by_operators(up.session, db.UpstreamRelease)
    for shipped in shipped_facts.load(releases_file) if releases_file is not None else []:
        engine = engines.get(shipped.facts.engine)
        if engine is None:
            continue
        key = {"engine_id": engine.id, "version": shipped.facts.version}
        if natural_key_of(db.UpstreamRelease, key) in deleted:
            up.report.kept_deletions["UpstreamRelease"] += 1
            continue
        record = await releases.record_release(
            up.session,
            shipped.facts,
            artifact_sha256=shipped.artifact_sha256,
            source_url=shipped.artifact_url,
        )
        if record.architectures_created:
            up.report.created["ModelArchitecture"] += len(record.architectures_created)
        if record.created:
            up.report.created["UpstreamRelease"] += 1
        elif record.changed:
            up.report.updated["UpstreamRelease"] += 1
    versions = {
        (row.engine_id, row.version_key, row.device_architecture): row
        for row in (await up.session.scalars(select(db.EngineVersion))).all()
    }
    packaged = [
        (record["slug"], item) for record in records("engines", data_dir) for item in record["versions"]
    ] + [(item["engine"], item) for item in records("engine_builds", data_dir)]
    for slug, item in packaged:
        engine = engines.get(slug)
        if engine is None or item.get("upstream_release") is None:
            continue
        version = versions.get((engine.id, version_key(item["version"]), item["device_architecture"]))
        release = await releases_repository.release_by_key(
            up.session, engine.id, version_key(item["upstream_release"])
        )
        if version is not None and release is not None:
            await releases.apply_release(up.session, version, release)


async def _quantization(up: Upserter, data_dir: Path, engines: dict[Hashable, db.Engine]) -> None:
    """Curated quantization rows (`quantization.json`): what no code declares. A row an upstream
    release derived, or an operator wrote, for the same version and method wins."""
    versions = {
        (row.engine_id, row.version_key, row.device_architecture): row
        for row in (await up.session.scalars(select(db.EngineVersion))).all()
    }
    found = await up.existing(db.QuantizationSupport, lambda row: (row.engine_version_id, row.method))
    for record in records("quantization", data_dir):
        engine = engines.get(record["engine"])
        version = (
            versions.get((engine.id, version_key(record["version"]), record["device_architecture"]))
            if engine is not None
            else None
        )
        if version is None:
            continue
        key = (version.id, record["method"])
        existing = found.get(key)
        if existing is not None and existing.origin != Origin.SEED.value:
            continue
        if record["method"] in version.withdrawn_quantization:
            continue
        values = {
            "engine_version_id": version.id,
            "method": record["method"],
            "device_architecture": version.device_architecture,
            "min_compute_capability": record["min_compute_capability"],
            "activation_dtypes": sorted(record["activation_dtypes"]),
            "source_file": None,
            "source_symbol": None,
            **origin_of(record),
        }
        up.upsert(db.QuantizationSupport, found, key, values)


async def _parser_rules(up: Upserter, data_dir: Path, engines: dict[Hashable, db.Engine]) -> None:
    found = await up.existing(
        db.ParserRule, lambda row: (row.engine_id, row.rule_type, row.match_type, row.pattern)
    )
    for record in records("parser_rules", data_dir):
        engine = engines.get(record["engine"])
        if engine is None:
            continue
        key = (engine.id, record["rule_type"], record["match_type"], record["pattern"])
        values = {
            "engine_id": engine.id,
            **{
                name: record[name]
                for name in ("rule_type", "parser", "match_type", "pattern", "priority", "enabled", "notes")
            },
            "chat_template": record.get("chat_template"),
            **origin_of(record),
        }
        up.upsert(db.ParserRule, found, key, values)


async def _providers(up: Upserter, data_dir: Path) -> dict[Hashable, db.Provider]:
    found = await up.existing(db.Provider, lambda row: row.slug)
    for record in records("providers", data_dir):
        values = {name: record[name] for name in ("slug", "name", "kind", "homepage_url")}
        up.upsert(db.Provider, found, record["slug"], {**values, **origin_of(record)})
    await up.session.flush()
    return found


async def _provider_models(up: Upserter, data_dir: Path, providers: dict[Hashable, db.Provider]) -> None:
    found = await up.existing(db.ProviderModel, lambda row: (row.provider_id, row.model_id))
    prices = (
        "input_per_million",
        "output_per_million",
        "cache_read_per_million",
        "cache_write_per_million",
        "price_per_query",
    )
    plain = (
        "model_id",
        "mode",
        "max_input_tokens",
        "max_output_tokens",
        "supports_function_calling",
        "supports_vision",
        "supports_reasoning",
        "supports_prompt_caching",
        "supports_response_schema",
    )
    for record in records("provider_models", data_dir):
        provider = providers.get(record["provider"])
        if provider is None:
            continue
        values: Record = {
            "provider_id": provider.id,
            **{name: record[name] for name in plain},
            **{name: decimal_or_none(record.get(name)) for name in prices},
            "price_tiers": checked_tiers(
                [PriceTier.from_stored(tier) for tier in record.get("price_tiers", [])]
            ),
            "deprecation_date": date_or_none(record["deprecation_date"]),
            **origin_of(record),
        }
        up.upsert(db.ProviderModel, found, (provider.id, record["model_id"]), values)


async def _hardware(up: Upserter, data_dir: Path) -> dict[Hashable, db.Hardware]:
    found = await up.existing(db.Hardware, lambda row: row.sku)
    numbers = ("memory_gb", "memory_bandwidth_gbps", "peak_bf16_tflops", "peak_fp8_tflops")
    plain = (
        "sku",
        "name",
        "vendor",
        "device_architecture",
        "compute_capability",
        "tdp_watts",
        "release_year",
    )
    for record in records("hardware", data_dir):
        values = {
            **{name: record[name] for name in plain},
            "devices_per_package": record.get("devices_per_package", 1),
            **{name: decimal_or_none(record[name]) for name in numbers},
            **origin_of(record),
        }
        up.upsert(db.Hardware, found, record["sku"], values)
    await up.session.flush()
    return found


async def _hardware_prices(
    up: Upserter,
    data_dir: Path,
    hardware: dict[Hashable, db.Hardware],
    providers: dict[Hashable, db.Provider],
) -> None:
    found = await up.existing(
        db.HardwarePrice,
        lambda row: (row.hardware_id, row.provider_id, row.region, row.instance_type, row.as_of),
    )
    for record in records("hardware_prices", data_dir):
        sku, provider = hardware.get(record["sku"]), providers.get(record["provider"])
        if sku is None or provider is None:
            continue
        as_of = date_or_none(record["as_of"])
        values = {
            "hardware_id": sku.id,
            "provider_id": provider.id,
            "instance_type": record["instance_type"],
            "devices_per_instance": record["devices_per_instance"],
            "region": record["region"],
            "on_demand_per_hour": decimal_or_none(record["on_demand_per_hour"]),
            "spot_per_hour": decimal_or_none(record["spot_per_hour"]),
            "currency": record["currency"],
            "as_of": as_of,
            **origin_of(record),
        }
        up.upsert(
            db.HardwarePrice,
            found,
            (sku.id, provider.id, record["region"], record["instance_type"], as_of),
            values,
        )
