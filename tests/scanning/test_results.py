"""The verdict over all outcomes fails closed."""

from __future__ import annotations

import pytest

from budgraph.scanning.results import ScanOutcome, ScanStatus, ScanSummary, Severity, highest, summarize

CLEAN = ScanOutcome("modelscan", "a.safetensors", ScanStatus.CLEAN, detail="format has no code execution")
FINDING = ScanOutcome("clamav", "b.bin", ScanStatus.FINDING, severity=Severity.CRITICAL, finding="Eicar")
ERROR = ScanOutcome("clamav", "a.safetensors", ScanStatus.ERROR, detail="connection refused")
NOT_SCANNED = ScanOutcome("clamav", "c.bin", ScanStatus.NOT_SCANNED, detail="too large")


@pytest.mark.parametrize(
    ("outcomes", "summary"),
    [
        ([CLEAN], ScanSummary.CLEAN),
        ([CLEAN, FINDING], ScanSummary.UNSAFE),
        ([ERROR, NOT_SCANNED, FINDING], ScanSummary.UNSAFE),
        ([CLEAN, ERROR], ScanSummary.ERROR),
        ([CLEAN, NOT_SCANNED], ScanSummary.ERROR),
        ([], ScanSummary.CLEAN),
    ],
)
def test_summary_rule(outcomes: list[ScanOutcome], summary: ScanSummary) -> None:
    assert summarize(outcomes) is summary


def test_only_a_finding_has_a_severity_and_a_finding() -> None:
    with pytest.raises(ValueError, match="only if it is a FINDING"):
        ScanOutcome("clamav", "x", ScanStatus.CLEAN, severity=Severity.LOW)
    with pytest.raises(ValueError, match="only if it is a FINDING"):
        ScanOutcome("clamav", "x", ScanStatus.FINDING, finding="Eicar")


def test_severities_are_ordered() -> None:
    assert highest([Severity.MEDIUM, Severity.CRITICAL, Severity.LOW]) is Severity.CRITICAL
    assert [severity.rank for severity in Severity] == [1, 2, 3, 4]
