"""Recording upstream releases, and deriving an engine version's compatibility from one.

``record_release`` upserts a release and what its code declares: re-recording the same facts
changes no row (so the registry version does not move), a newer release is a new row beside the
older ones. ``apply_release`` makes an engine version that packages a release serve what the
release declares, while an operator's edits win:

- compatibility edges carry an origin: edges the release derived (`release`) or the seed wrote
  (`seed`) follow the release; an operator's (`api`) are never touched. An architecture an operator
  removed from such a version is remembered (``withdrawn_architectures``) and not added again.
- endpoints are the union of the release's architectures' endpoints, unless an operator edited
  the version's endpoints (``edited_fields``).
- quantization rows of the version's device follow the release; curated rows for methods the
  release does not declare stay; an operator's rows are never touched, and a method an operator
  removed (``withdrawn_quantization``) is not added again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.db.base import Origin, ProvenanceMixin
from budgraph.db.enums import ArchitectureTask, DeviceArchitecture, Endpoint
from budgraph.kit.creates import lock_natural_key
from budgraph.kit.deletes import delete_rows, lock, refuse_if_referenced
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.versions import InvalidVersionString, version_key
from budgraph.kit.writes import checked_url, flush
from budgraph.releases import repository
from budgraph.releases.errors import CAPABILITY, ReleaseFactsError, checked_capability
from budgraph.releases.facts import ReleaseFacts, SourceRef

T = TypeVar("T", bound=ProvenanceMixin)
METHOD = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
# The package index project each engine's releases are published as (for a release's source URL).
PACKAGES = {"vllm": "vllm", "sglang": "sglang", "llamacpp": "llama-cpp-python"}
DERIVED_EDGES = frozenset({Origin.RELEASE.value, Origin.SEED.value})


def package_url(engine: str, version: str) -> str | None:
    """The release's page on PyPI, for the engines published there."""
    package = PACKAGES.get(engine)
    return f"https://pypi.org/project/{package}/{version}/" if package else None


@dataclass(frozen=True)
class ReleaseRecord:
    """What ``record_release`` did."""

    release: db.UpstreamRelease
    created: bool
    changed: bool  # whether any row was created, changed or deleted
    architectures_created: tuple[str, ...]  # registry architectures created for this release


@dataclass(frozen=True)
class ReleaseDiff:
    """A release against the engine's previous recorded release."""

    previous: str | None
    added: tuple[str, ...]
    removed: tuple[str, ...]
    dropped: tuple[str, ...]  # what the release itself declares dropped
    quantization: tuple[str, ...]  # `method (DEVICE >= capability)`


@dataclass
class ApplyReport:
    edges_added: list[str] = field(default_factory=list)
    edges_removed: list[str] = field(default_factory=list)
    quantization_written: list[str] = field(default_factory=list)
    quantization_removed: list[str] = field(default_factory=list)
    endpoints: list[str] | None = None  # the version's endpoints, when derived


def _check_facts(facts: ReleaseFacts) -> None:
    endpoints, tasks = {e.value for e in Endpoint}, {t.value for t in ArchitectureTask}
    devices = {d.value for d in DeviceArchitecture}
    for arch in facts.architectures:
        if not arch.class_name.strip():
            raise ReleaseFactsError("an architecture without a class name", field="architectures")
        unknown = sorted(set(arch.endpoints) - endpoints)
        if unknown:
            raise ReleaseFactsError(
                f"{arch.class_name}: unknown endpoints {', '.join(unknown)}", field="architectures"
            )
        if arch.task not in tasks:
            raise ReleaseFactsError(f"{arch.class_name}: unknown task {arch.task!r}", field="architectures")
    for quant in facts.quantization:
        if not METHOD.fullmatch(quant.method):
            raise ReleaseFactsError(
                f"quantization method {quant.method!r} is not a method name", field="quantization"
            )
        if quant.device_architecture not in devices:
            raise ReleaseFactsError(
                f"{quant.method}: unknown device architecture {quant.device_architecture!r}",
                field="quantization",
            )
        if quant.min_compute_capability is not None and not CAPABILITY.fullmatch(
            quant.min_compute_capability
        ):
            raise ReleaseFactsError(
                f"{quant.method}: minimum compute capability {quant.min_compute_capability!r}"
                " is not major.minor",
                field="quantization",
            )
    names = [a.class_name for a in facts.architectures]
    if len(names) != len(set(names)):
        raise ReleaseFactsError("an architecture is declared twice", field="architectures")


def _set(row: Any, values: Mapping[str, Any]) -> bool:
    """Set the values that differ; whether any did (equal values are not written, so an unchanged
    row is not an update in the change feed)."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _declared(source: SourceRef) -> dict[str, str]:
    return {"source_file": source.file, "source_symbol": source.symbol}


class _Sync:
    """Upserts rows of one release (or version) by key, deleting those no longer declared."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.changed = False
        self.gone: list[Any] = []

    def rows(
        self,
        table: type[T],
        existing: Iterable[T],
        key: Any,
        wanted: Mapping[Any, Mapping[str, Any]],
        fixed: Mapping[str, Any],
    ) -> None:
        found = {key(row): row for row in existing}
        for name, values in wanted.items():
            row = found.pop(name, None)
            if row is None:
                self.session.add(table(**fixed, **values))
                self.changed = True
            elif _set(row, values):
                self.changed = True
        for row in found.values():
            self.changed = True
            self.gone.append(row)

    async def finish(self) -> None:
        for row in self.gone:
            await self.session.delete(row)
        await self.session.flush()


async def record_release(
    session: AsyncSession,
    facts: ReleaseFacts,
    *,
    artifact_sha256: str | None = None,
    source_url: str | None = None,
) -> ReleaseRecord:
    """Record an upstream release and what it declares (idempotent; see the module's docstring)."""
    engine = await repository.engine_by_slug(session, facts.engine)
    if engine is None:
        raise NotFound(f"no engine {facts.engine!r}", field="engine")
    try:
        key = version_key(facts.version)
    except InvalidVersionString as error:
        raise BudgraphError(str(error), field="version") from None
    if not facts.artifact.strip():
        raise ReleaseFactsError("the release's artifact has no name", field="artifact")
    if artifact_sha256 is not None and not re.fullmatch(r"[0-9a-f]{64}", artifact_sha256):
        raise BudgraphError("`artifactSha256` must be 64 lowercase hex digits", field="artifactSha256")
    _check_facts(facts)
    await lock_natural_key(session, db.UpstreamRelease.__tablename__, [engine.id, key])
    release = await repository.release_by_key(session, engine.id, key)
    created = release is None
    # An equal version spelled differently (`0.8` for `0.8.0`) is the release as first recorded.
    spelled = release.version if release is not None else facts.version
    provenance = {
        "source": f"upstream release {facts.engine} {spelled} ({facts.artifact})",
        "source_url": checked_url(source_url or package_url(facts.engine, spelled), "sourceUrl"),
    }
    values: dict[str, Any] = {"artifact": facts.artifact, **provenance}
    if artifact_sha256 is not None:
        values["artifact_sha256"] = artifact_sha256
    if release is None:
        release = db.UpstreamRelease(
            engine_id=engine.id, version=facts.version, version_key=key, origin=Origin.RELEASE.value, **values
        )
        session.add(release)
        await flush(session, f"release {facts.engine} {facts.version}")
    sync = _Sync(session)
    sync.changed = created or _set(release, values)
    row_provenance = {**provenance, "origin": Origin.RELEASE.value}
    architectures, new_names = await _architectures_for(session, facts, row_provenance)
    sync.rows(
        db.UpstreamArchitecture,
        await repository.declared_architectures(session, release.id),
        lambda row: row.architecture_id,
        {
            architectures[arch.class_name].id: {
                "architecture_id": architectures[arch.class_name].id,
                "task": arch.task,
                "endpoints": sorted(set(arch.endpoints)),
                "supports_pipeline_parallelism": arch.supports_pipeline_parallelism,
                "supports_lora": arch.supports_lora,
                "multimodal": arch.multimodal,
                "gguf_architecture": arch.gguf_architecture,
                **_declared(arch.source),
                **row_provenance,
            }
            for arch in facts.architectures
        },
        {"release_id": release.id},
    )
    sync.rows(
        db.UpstreamDroppedArchitecture,
        await repository.dropped_architectures(session, release.id),
        lambda row: row.class_name,
        {
            dropped.class_name: {
                "class_name": dropped.class_name,
                **_declared(dropped.source),
                **row_provenance,
            }
            for dropped in facts.dropped
        },
        {"release_id": release.id},
    )
    sync.rows(
        db.UpstreamQuantization,
        await repository.declared_quantization(session, release.id),
        lambda row: (row.method, row.device_architecture),
        {
            (quant.method, quant.device_architecture): {
                "method": quant.method,
                "device_architecture": quant.device_architecture,
                "min_compute_capability": quant.min_compute_capability,
                "activation_dtypes": list(quant.activation_dtypes),
                **_declared(quant.source),
                **row_provenance,
            }
            for quant in facts.quantization
        },
        {"release_id": release.id},
    )
    await sync.finish()
    return ReleaseRecord(release, created, sync.changed or bool(new_names), tuple(new_names))


async def _architectures_for(
    session: AsyncSession, facts: ReleaseFacts, provenance: Mapping[str, Any]
) -> tuple[dict[str, db.ModelArchitecture], list[str]]:
    """The registry's architectures of the facts by class name, creating those it lacks (with the
    release as their source)."""
    names = sorted({arch.class_name for arch in facts.architectures})
    found = {row.class_name: row for row in await repository.architectures_by_class_names(session, names)}
    created = []
    for arch in facts.architectures:
        if arch.class_name in found:
            continue
        row = db.ModelArchitecture(
            class_name=arch.class_name,
            supports_lora=bool(arch.supports_lora),
            supports_pipeline_parallelism=bool(arch.supports_pipeline_parallelism),
            **provenance,
        )
        session.add(row)
        found[arch.class_name] = row
        created.append(arch.class_name)
    if created:
        await flush(session, "model architectures of the release")
    return found, created


async def diff_with_previous(session: AsyncSession, release: db.UpstreamRelease) -> ReleaseDiff:
    """What a release added and removed against the engine's previous recorded release."""
    now = set((await repository.declared_class_names(session, release.id)).values())
    previous = await repository.release_before(session, release.engine_id, release.version_key)
    before = (
        set((await repository.declared_class_names(session, previous.id)).values()) if previous else set()
    )
    dropped = sorted(row.class_name for row in await repository.dropped_architectures(session, release.id))
    quantization = sorted(
        f"{row.method} ({row.device_architecture}"
        + (f" >= {row.min_compute_capability})" if row.min_compute_capability else ")")
        for row in await repository.declared_quantization(session, release.id)
    )
    return ReleaseDiff(
        previous=previous.version if previous else None,
        added=tuple(sorted(now - before)) if previous else tuple(sorted(now)),
        removed=tuple(sorted(before - now)),
        dropped=tuple(dropped),
        quantization=tuple(quantization),
    )


async def apply_release(
    session: AsyncSession, version: db.EngineVersion, release: db.UpstreamRelease
) -> ApplyReport:
    """Make ``version`` package ``release`` and derive its compatibility from it (see the module)."""
    if release.engine_id != version.engine_id:
        raise BudgraphError("the upstream release is of another engine than the version", field="releaseId")
    await lock(session, version)
    await lock_natural_key(session, db.CompatibilityEdge.__tablename__, [version.id])
    report = ApplyReport()
    if version.upstream_release_id != release.id:
        version.upstream_release_id = release.id
    declared = await repository.declared_architectures(session, release.id)
    names = await repository.declared_class_names(session, release.id)
    withdrawn = set(version.withdrawn_architectures)
    wanted = {arch_id: name for arch_id, name in names.items() if name not in withdrawn}
    provenance = {"source": release.source, "source_url": release.source_url}
    edges = await repository.edges_of_version(session, version.id)
    have = {edge.architecture_id for edge, _ in edges}
    for edge, class_name in edges:
        if edge.origin in DERIVED_EDGES and edge.architecture_id not in wanted:
            await session.delete(edge)
            report.edges_removed.append(class_name)
    for arch_id in sorted(set(wanted) - have, key=wanted.__getitem__):
        session.add(
            db.CompatibilityEdge(
                engine_version_id=version.id,
                architecture_id=arch_id,
                origin=Origin.RELEASE.value,
                **provenance,
            )
        )
        report.edges_added.append(wanted[arch_id])
    if "endpoints" not in version.edited_fields:
        endpoints = sorted({e for row in declared if row.architecture_id in wanted for e in row.endpoints})
        if version.endpoints != endpoints:
            version.endpoints = endpoints
        report.endpoints = endpoints
    await _apply_quantization(session, version, release, report)
    await session.flush()
    report.edges_removed.sort()
    return report


async def _apply_quantization(
    session: AsyncSession, version: db.EngineVersion, release: db.UpstreamRelease, report: ApplyReport
) -> None:
    withdrawn = set(version.withdrawn_quantization)
    declared = {
        row.method: row
        for row in await repository.declared_quantization(session, release.id)
        if row.device_architecture == version.device_architecture and row.method not in withdrawn
    }
    rows = {row.method: row for row in await repository.support_rows_of_version(session, version.id)}
    for method, row in rows.items():
        if row.origin == Origin.RELEASE.value and method not in declared:
            await session.delete(row)
            report.quantization_removed.append(method)
    for method, fact in sorted(declared.items()):
        values = {
            "device_architecture": fact.device_architecture,
            "min_compute_capability": fact.min_compute_capability,
            "activation_dtypes": list(fact.activation_dtypes),
            "source_file": fact.source_file,
            "source_symbol": fact.source_symbol,
            "source": release.source,
            "source_url": release.source_url,
            "origin": Origin.RELEASE.value,
        }
        existing = rows.get(method)
        if existing is None:
            session.add(db.QuantizationSupport(engine_version_id=version.id, method=method, **values))
            report.quantization_written.append(method)
        elif existing.origin != Origin.API.value and _set(existing, values):
            report.quantization_written.append(method)


async def apply_to_versions(
    session: AsyncSession, release: db.UpstreamRelease, versions: Sequence[db.EngineVersion]
) -> dict[int, ApplyReport]:
    return {version.id: await apply_release(session, version, release) for version in versions}


# Operators' edits of quantization support (the API).


def _withdraw(values: list[str], name: str) -> list[str]:
    return sorted({*values, name})


def _restore(values: list[str], name: str) -> list[str]:
    return [value for value in values if value != name]


@dataclass(frozen=True)
class SupportInput:
    method: str
    min_compute_capability: str | None
    activation_dtypes: tuple[str, ...]
    source: str | None
    source_url: str | None


async def set_support(
    session: AsyncSession, version: db.EngineVersion, given: SupportInput
) -> db.QuantizationSupport:
    """An operator declares that a version runs a quantization method: their row, which a
    re-applied release leaves alone."""
    method = given.method.strip().lower()
    if not METHOD.fullmatch(method):
        raise BudgraphError(
            f"`method` must be a method name such as `fp8` or `awq`, got {given.method!r}", field="method"
        )
    values = {
        "device_architecture": version.device_architecture,
        "min_compute_capability": checked_capability(given.min_compute_capability, "minComputeCapability"),
        "activation_dtypes": sorted(set(given.activation_dtypes)),
        "source": given.source,
        "source_url": checked_url(given.source_url, "sourceUrl"),
        "source_file": None,
        "source_symbol": None,
        "origin": Origin.API.value,
    }
    await lock_natural_key(session, db.QuantizationSupport.__tablename__, [version.id])
    row = await repository.support_row(session, version.id, method)
    if row is None:
        row = db.QuantizationSupport(engine_version_id=version.id, method=method, **values)
        session.add(row)
    else:
        _set(row, values)
    if method in version.withdrawn_quantization:
        version.withdrawn_quantization = _restore(version.withdrawn_quantization, method)
    await flush(session, f"quantization {method} of engine version {version.version}")
    return row


async def delete_support(session: AsyncSession, row: db.QuantizationSupport) -> list[Any]:
    """Delete a quantization row; when the version packages an upstream release, the method is
    withdrawn so re-applying the release does not bring it back."""
    await lock(session, row)
    version = await session.get(db.EngineVersion, row.engine_version_id)
    if version is not None and version.upstream_release_id is not None:
        version.withdrawn_quantization = _withdraw(version.withdrawn_quantization, row.method)
    return await delete_rows(session, [], row, f"quantization {row.method}")


async def delete_release(session: AsyncSession, release: db.UpstreamRelease) -> list[Any]:
    """Delete a recorded release with what it declares; refused while engine versions package it."""
    what = f"upstream release {release.version}"
    await lock(session, release)
    refuse_if_referenced(
        what,
        await repository.versions_naming(session, release.id),
        "engine versions packaging it",
        "point those versions at another release first",
    )
    children: list[Any] = [
        *await repository.declared_architectures(session, release.id),
        *await repository.dropped_architectures(session, release.id),
        *await repository.declared_quantization(session, release.id),
    ]
    return await delete_rows(session, children, release, what)


def withdraw_architectures(version: db.EngineVersion, class_names: Iterable[str]) -> None:
    """An operator removed these architectures from a version that packages a release."""
    if version.upstream_release_id is None:
        return
    names = set(class_names)
    if names - set(version.withdrawn_architectures):
        version.withdrawn_architectures = sorted(set(version.withdrawn_architectures) | names)


def restore_architectures(version: db.EngineVersion, class_names: Iterable[str]) -> None:
    """An operator added these architectures back: no longer withdrawn."""
    names = set(class_names)
    if names & set(version.withdrawn_architectures):
        version.withdrawn_architectures = sorted(set(version.withdrawn_architectures) - names)


# Reads: checked arguments.


def checked_key(version: str, field: str) -> str:
    try:
        return version_key(version)
    except InvalidVersionString as error:
        raise BudgraphError(str(error), field=field) from None


async def support_query(
    session: AsyncSession,
    engine: str | None,
    version: str | None,
    device_architecture: str | None,
    method: str | None,
    compute_capability: str | None,
) -> repository.SupportQuery:
    """The rows a `quantizationSupport` question asks for; an unknown engine or version is NOT_FOUND."""
    capability = checked_capability(compute_capability, "computeCapability")
    key = None
    if version is not None:
        if engine is None:
            raise BudgraphError("`version` needs `engine`", field="version")
        key = checked_key(version, "version")
    if engine is not None and not await repository.engine_exists(session, engine):
        raise NotFound(f"no engine {engine!r}", field="engine")
    if engine is not None and key is not None and not await repository.version_exists(session, engine, key):
        raise NotFound(f"{engine} has no version {version!r}", field="version")
    return repository.SupportQuery(
        engine_slug=engine,
        version_key=key,
        device_architecture=device_architecture,
        method=method.strip().lower() if method is not None else None,
        compute_capability=capability,
    )


async def release_of(session: AsyncSession, engine: str, version: str) -> Any:
    """A recorded release as a plain row, or None; an unknown engine is NOT_FOUND."""
    key = checked_key(version, "version")
    if not await repository.engine_exists(session, engine):
        raise NotFound(f"no engine {engine!r}", field="engine")
    return await repository.release_row(session, engine, key)


async def inconsistencies(session: AsyncSession) -> list[str]:
    """What breaks the registry's consistency rules, in words (empty: consistent): every seeded or
    derived edge and quantization row has a source and a source URL, and no version that packages
    an upstream release claims (by seed or derivation) an architecture the release does not have.
    The seeder refuses to commit when this is not empty; a test runs it on the seed."""
    return [*await repository.unsourced_rows(session), *await repository.claims_beyond_release(session)]
