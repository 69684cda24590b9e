"""What a scan found: one outcome per file per scanner, and the verdict over all of them.

The verdict fails closed: a file that a scanner should have read but did not (its daemon was down,
it crashed, the file was too large) makes the whole scan an ``ERROR``, never ``CLEAN``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

ScannerName = Literal["modelscan", "clamav"]
SCANNERS: tuple[ScannerName, ...] = ("modelscan", "clamav")


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class ScanStatus(StrEnum):
    CLEAN = "CLEAN"
    FINDING = "FINDING"
    NOT_SCANNED = "NOT_SCANNED"
    ERROR = "ERROR"


class ScanSummary(StrEnum):
    CLEAN = "CLEAN"
    UNSAFE = "UNSAFE"
    ERROR = "ERROR"


@dataclass(frozen=True)
class ScanOutcome:
    """One scanner's word on one file (``path`` is relative to the model's root)."""

    scanner: ScannerName
    path: str
    status: ScanStatus
    severity: Severity | None = None
    finding: str | None = None  # "posix.system in pickle", "Eicar-Test-Signature.UNOFFICIAL"
    detail: str | None = None

    def __post_init__(self) -> None:
        is_finding = self.status is ScanStatus.FINDING
        if is_finding != (self.severity is not None) or is_finding != (self.finding is not None):
            raise ValueError(f"a {self.status} outcome has a severity and a finding only if it is a FINDING")


def summarize(outcomes: Iterable[ScanOutcome]) -> ScanSummary:
    """Any finding is UNSAFE; else any error or unscanned file is ERROR; else CLEAN."""
    statuses = {outcome.status for outcome in outcomes}
    if ScanStatus.FINDING in statuses:
        return ScanSummary.UNSAFE
    if statuses & {ScanStatus.ERROR, ScanStatus.NOT_SCANNED}:
        return ScanSummary.ERROR
    return ScanSummary.CLEAN


def highest(severities: Iterable[Severity]) -> Severity:
    return max(severities, key=lambda severity: severity.rank)
