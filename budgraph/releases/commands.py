"""What `budgraph engines import` does: read a release artifact, then record it (and apply it to the
engine versions that package it) in one unit of work."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.auth.commands import cli_actor
from budgraph.kit.db import create_engine, session_factory
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.releases import repository, service
from budgraph.releases.facts import ReleaseFacts
from budgraph.settings import Settings


class ImportFailed(Exception):
    """The artifact could not be read (one line for the terminal)."""


@dataclass(frozen=True)
class ImportSummary:
    facts: ReleaseFacts
    record: service.ReleaseRecord
    diff: service.ReleaseDiff
    applied: dict[str, service.ApplyReport]  # "version (DEVICE)" -> what applying did
    registry_version: int | None = None

    def lines(self) -> list[str]:
        facts, diff = self.facts, self.diff
        state = "recorded" if self.record.created else "updated" if self.record.changed else "unchanged"
        against = f"vs {diff.previous}" if diff.previous else "first recorded release"
        lines = [
            f"{facts.engine} {facts.version} ({facts.artifact}): {state}",
            f"  architectures  {len(facts.architectures)}"
            f" ({against}: +{len(diff.added)} -{len(diff.removed)})",
        ]
        if diff.previous:
            lines += [f"    added    {name}" for name in diff.added]
            lines += [f"    removed  {name}" for name in diff.removed]
        if diff.dropped:
            lines.append(f"  dropped        {', '.join(diff.dropped)}")
        lines.append(f"  quantization   {', '.join(diff.quantization) or 'none declared'}")
        if self.record.architectures_created:
            lines.append(f"  new in the registry: {', '.join(self.record.architectures_created)}")
        for build, report in self.applied.items():
            lines.append(
                f"  applied to {build}: +{len(report.edges_added)} -{len(report.edges_removed)}"
                " architectures,"
                f" quantization {', '.join(report.quantization_written) or 'unchanged'}"
                + (
                    f", removed {', '.join(report.quantization_removed)}"
                    if report.quantization_removed
                    else ""
                )
            )
        lines.append(
            f"  registry version {self.registry_version}" if self.registry_version else "  registry unchanged"
        )
        return lines


def read_release(engine: str, version: str, path: Path) -> ReleaseFacts:
    """The facts of a release artifact, read by the engine's importer (never imported or run)."""
    if not path.exists():
        raise ImportFailed(f"{path}: no such file or directory")
    # Looked up at run time: the importers are another branch's module (budgraph.releases.importers).
    try:
        importers = importlib.import_module("budgraph.releases.importers")
    except ImportError:
        raise ImportFailed("the release importers are not installed (budgraph.releases.importers)") from None
    import_release: Callable[[str, str, Path], ReleaseFacts] = importers.import_release
    try:
        return import_release(engine, version, path)
    except importers.ReleaseImportError as error:
        raise ImportFailed(str(error)) from None


def sha256_of(path: Path) -> str | None:
    """The artifact's SHA-256 (a file; a source tree has none)."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as artifact:
        for block in iter(lambda: artifact.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def record_and_apply(
    session: AsyncSession,
    facts: ReleaseFacts,
    apply_to: str | None,
    devices: list[str] | None,
    artifact_sha256: str | None = None,
) -> ImportSummary:
    """Record the release; with ``apply_to``, make that version's builds (those of ``devices``, or
    all) package it."""
    record = await service.record_release(session, facts, artifact_sha256=artifact_sha256)
    applied: dict[str, service.ApplyReport] = {}
    if apply_to is not None:
        key = service.checked_key(apply_to, "apply-to")
        builds = await repository.builds_of(session, record.release.engine_id, key)
        if devices:
            missing = sorted(set(devices) - {b.device_architecture for b in builds})
            if missing:
                raise NotFound(
                    f"{facts.engine} {apply_to} has no build for {', '.join(missing)}", field="device"
                )
            builds = [b for b in builds if b.device_architecture in devices]
        if not builds:
            raise NotFound(
                f"{facts.engine} has no version {apply_to!r} to apply the release to", field="apply-to"
            )
        for build in builds:
            report = await service.apply_release(session, build, record.release)
            applied[f"{build.version} ({build.device_architecture})"] = report
    diff = await service.diff_with_previous(session, record.release)
    return ImportSummary(facts, record, diff, applied)


async def import_now(
    settings: Settings,
    engine: str,
    version: str,
    path: Path,
    apply_to: str | None,
    devices: list[str] | None,
) -> ImportSummary:
    """Read the artifact, then record (and apply) it in one transaction."""
    facts = read_release(engine, version, path)
    if facts.engine != engine:
        raise BudgraphError(f"the importer read a release of {facts.engine!r}, not {engine!r}")
    db_engine = create_engine(settings)
    try:
        async with UnitOfWork(session_factory(db_engine), actor=cli_actor()) as uow:
            summary = await record_and_apply(uow.session, facts, apply_to, devices, sha256_of(path))
        return ImportSummary(summary.facts, summary.record, summary.diff, summary.applied, uow.version)
    finally:
        await db_engine.dispose()
