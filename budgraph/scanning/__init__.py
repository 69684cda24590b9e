"""Malware and unsafe-code scanning of model files (modelscan and ClamAV), failing closed."""

from budgraph.scanning.results import ScanOutcome, ScanStatus, ScanSummary, Severity, summarize
from budgraph.scanning.scan import ScanLimits, ScanReport, scan_files

__all__ = [
    "ScanLimits",
    "ScanOutcome",
    "ScanReport",
    "ScanStatus",
    "ScanSummary",
    "Severity",
    "scan_files",
    "summarize",
]
