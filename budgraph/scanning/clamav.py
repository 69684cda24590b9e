"""ClamAV outcomes for a model's files, from clamd (see ``daemon`` for its configuration).

Fails closed: clamd unreachable, timing out or answering nonsense gives ERROR; a file clamd would
not take whole (over StreamMaxLength, or stopped at a scan limit) gives NOT_SCANNED. Details say
what happened in words; clamd's address and the socket errors go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from budgraph.scanning.daemon import ClamdClient, ClamdError, FileUnreadable, StreamTooLarge
from budgraph.scanning.results import ScanOutcome, ScanStatus, Severity

__all__ = [
    "ClamavRun",
    "ClamdClient",
    "ClamdError",
    "FileUnreadable",
    "StreamTooLarge",
    "outcome_for_file",
    "run_clamav",
]

_LIMITS_EXCEEDED = "Heuristics.Limits.Exceeded"
log = logging.getLogger("budgraph.scanning")
OutcomeHandler = Callable[[ScanOutcome], Awaitable[None]]


def _severity(signature: str) -> Severity:
    if signature.startswith("PUA."):
        return Severity.MEDIUM
    if signature.startswith("Heuristics."):
        return Severity.HIGH
    return Severity.CRITICAL


async def outcome_for_file(client: ClamdClient, root: Path, path: str) -> ScanOutcome:
    try:
        signature = await client.scan_file(root / path)
    except StreamTooLarge as error:
        return ScanOutcome("clamav", path, ScanStatus.NOT_SCANNED, detail=str(error))
    except ClamdError as error:
        return ScanOutcome("clamav", path, ScanStatus.ERROR, detail=str(error))
    except FileUnreadable as error:
        return ScanOutcome("clamav", path, ScanStatus.ERROR, detail=str(error))
    if signature is None:
        return ScanOutcome("clamav", path, ScanStatus.CLEAN)
    if signature.startswith(_LIMITS_EXCEEDED):
        detail = f"clamd stopped at one of its scan limits ({signature})"
        return ScanOutcome("clamav", path, ScanStatus.NOT_SCANNED, detail=detail)
    return ScanOutcome("clamav", path, ScanStatus.FINDING, severity=_severity(signature), finding=signature)


@dataclass(frozen=True)
class ClamavRun:
    outcomes: list[ScanOutcome]
    version: str | None  # None when clamd could not be reached


async def run_clamav(
    client: ClamdClient, root: Path, files: Sequence[str], on_outcome: OutcomeHandler | None = None
) -> ClamavRun:
    """One ClamAV outcome per file in ``files`` (paths relative to ``root``), in order."""
    outcomes: list[ScanOutcome] = []
    version: str | None = None
    unreachable: str | None = None
    try:
        await client.ping()
        version = await client.version()
    except ClamdError as error:
        unreachable = f"{error}; the file was not scanned"
        log.warning("clamd at %s cannot be used: %r (cause: %r)", client.address, error, error.__cause__)
    for path in files:
        if unreachable is not None:
            outcome = ScanOutcome("clamav", path, ScanStatus.ERROR, detail=unreachable)
        else:
            outcome = await outcome_for_file(client, root, path)
        outcomes.append(outcome)
        if on_outcome is not None:
            await on_outcome(outcome)
    return ClamavRun(outcomes, version)
