"""Scan every file of a model with modelscan and ClamAV, failing closed.

    report = await scan_files(root, ["config.json", "model.safetensors"], "unix:///run/clamav/clamd.ctl")
    report.summary  # CLEAN only if both scanners read (or rightly had no need to read) every file

Both scanners run at once, each over the files in order; ``progress(done, path)`` is awaited each
time both have finished a file. A path that is absolute, climbs out of ``root`` with ``..``, or is
not a regular file gets ERROR outcomes without being opened.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from budgraph.scanning.clamav import ClamdClient, run_clamav
from budgraph.scanning.daemon import MIB
from budgraph.scanning.modelscan_runner import run_modelscan
from budgraph.scanning.results import SCANNERS, ScanOutcome, ScanStatus, ScanSummary, summarize

Progress = Callable[[int, str], Awaitable[None]]


@dataclass(frozen=True)
class ScanLimits:
    clamd_stream_max_length: int = 100 * MIB  # must match StreamMaxLength in clamd.conf
    clamd_connect_timeout: float = 10.0
    clamd_reply_timeout: float = 300.0
    modelscan_file_timeout: float = 600.0
    modelscan_start_timeout: float = 60.0


@dataclass(frozen=True)
class ScanReport:
    outcomes: list[ScanOutcome]  # per file, modelscan's then ClamAV's, in the order of ``files``
    summary: ScanSummary
    scanner_versions: dict[str, str] = field(default_factory=dict)  # "modelscan": "0.8.8", "clamav": ...


def _refusal(root: Path, path: str) -> str | None:
    """Why ``path`` may not be scanned, or None."""
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or ".." in relative.parts:
        return "not a path inside the model root"
    try:
        if not (root / path).is_file():
            return "not a regular file under the model root"
    except OSError:
        return "cannot be read"
    return None


async def scan_files(
    root: Path,
    files: list[str],
    clamd_address: str,
    progress: Progress | None = None,
    *,
    limits: ScanLimits | None = None,
) -> ScanReport:
    limits = limits or ScanLimits()
    wanted = list(dict.fromkeys(files))
    refusals = await asyncio.to_thread(lambda: {path: _refusal(root, path) for path in wanted})
    readable = [path for path in wanted if refusals[path] is None]
    client = ClamdClient(
        clamd_address,
        stream_max_length=limits.clamd_stream_max_length,
        connect_timeout=limits.clamd_connect_timeout,
        reply_timeout=limits.clamd_reply_timeout,
    )
    done: Counter[str] = Counter()
    finished = 0

    async def on_outcome(outcome: ScanOutcome) -> None:
        nonlocal finished
        done[outcome.path] += 1
        if done[outcome.path] == len(SCANNERS):
            finished += 1
            if progress is not None:
                await progress(finished, outcome.path)

    for path in wanted:
        if (reason := refusals[path]) is not None:
            for scanner in SCANNERS:
                await on_outcome(ScanOutcome(scanner, path, ScanStatus.ERROR, detail=reason))

    async with asyncio.TaskGroup() as group:
        modelscan = group.create_task(
            run_modelscan(
                root,
                readable,
                file_timeout=limits.modelscan_file_timeout,
                start_timeout=limits.modelscan_start_timeout,
                on_outcome=on_outcome,
            )
        )
        clamav = group.create_task(run_clamav(client, root, readable, on_outcome))

    by_key = {(outcome.scanner, outcome.path): outcome for outcome in modelscan.result().outcomes}
    by_key.update({(outcome.scanner, outcome.path): outcome for outcome in clamav.result().outcomes})
    outcomes = [
        by_key.get((scanner, path))
        or ScanOutcome(
            scanner, path, ScanStatus.ERROR, detail=refusals[path] or f"{scanner} produced no result"
        )
        for path in wanted
        for scanner in SCANNERS
    ]
    versions = {"modelscan": modelscan.result().version, "clamav": clamav.result().version}
    return ScanReport(
        outcomes,
        summarize(outcomes),
        {name: version for name, version in versions.items() if version is not None},
    )
