"""modelscan's report on one file, as a ScanOutcome.

Nothing here reports CLEAN for a file that modelscan did not read, unless its format cannot carry
code (``formats.is_code_free``) or it is a member of a checkpoint that torch never unpickles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any

from budgraph.scanning.formats import is_code_free, is_inert_archive_member
from budgraph.scanning.results import ScanOutcome, ScanStatus, Severity, highest

NO_CODE_DETAIL = "format has no code execution"
_FORMAT_OF_SCANNER = {
    "modelscan.scanners.PickleUnsafeOpScan": "pickle",
    "modelscan.scanners.PyTorchUnsafeOpScan": "pytorch",
    "modelscan.scanners.NumpyUnsafeOpScan": "numpy",
    "budgraph.scanning.modelscan_plugins.NumpyHeaderScan": "numpy",
    "modelscan.scanners.H5LambdaDetectScan": "keras h5",
    "budgraph.scanning.modelscan_plugins.KerasConfigLambdaScan": "keras",
    "modelscan.scanners.SavedModelLambdaDetectScan": "saved model",
    "modelscan.scanners.SavedModelTensorflowOpScan": "saved model",
}
# A weights-only HDF5 file has no model config, hence no layers (and no Lambda) to execute.
_WEIGHTS_ONLY = "MODEL_CONFIG"


def error_outcome(path: str, detail: str) -> ScanOutcome:
    return ScanOutcome("modelscan", path, ScanStatus.ERROR, detail=detail)


def _listed(items: Sequence[str], limit: int = 20) -> str:
    shown = "; ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown}; and {len(items) - limit} more"


def _member(name: str, source: object) -> str | None:
    """The archive member a report entry is about, or None when it is about the file itself."""
    text = str(source or "")
    return text[len(name) + 1 :] if text.startswith(f"{name}:") else None


def _severity(raw: object) -> Severity:
    try:
        return Severity(str(raw).upper())
    except ValueError:
        return Severity.CRITICAL  # an issue we cannot grade is treated as the worst


def outcome_from_report(path: str, report: Mapping[str, Any]) -> ScanOutcome:
    """modelscan's report for the single file ``path`` (relative to the model root), as an outcome."""
    name = PurePosixPath(path).name
    summary: Mapping[str, Any] = report.get("summary") or {}
    errors = [
        f"{error.get('category')}: {error.get('description')}"
        + (f" ({error['source']})" if error.get("source") else "")
        for error in report.get("errors") or []
    ]
    issues: list[Mapping[str, Any]] = list(report.get("issues") or [])
    if issues:
        ranked = sorted(issues, key=lambda issue: -_severity(issue.get("severity")).rank)
        labels = dict.fromkeys(
            f"{issue.get('module')}.{issue.get('operator')} in "
            f"{_FORMAT_OF_SCANNER.get(str(issue.get('scanner')), 'model file')}"
            for issue in ranked
        )
        details = [
            f"{issue.get('severity')}: {issue.get('description')} ({issue.get('source')})" for issue in ranked
        ]
        return ScanOutcome(
            "modelscan",
            path,
            ScanStatus.FINDING,
            severity=highest(_severity(issue.get("severity")) for issue in issues),
            finding="; ".join(labels),
            detail=_listed(details + errors),
        )
    if errors:
        return error_outcome(path, _listed(errors))

    unread: list[str] = []
    notes: dict[str, None] = {}
    for skipped in (summary.get("skipped") or {}).get("skipped_files") or []:
        category, member = str(skipped.get("category")), _member(name, skipped.get("source"))
        if category == _WEIGHTS_ONLY:
            notes["HDF5 weights without a model config: no layers to execute"] = None
        elif member is None and is_code_free(path):
            notes[NO_CODE_DETAIL] = None
        elif member is None:
            unread.append(f"{skipped.get('description')} [{category}]")
        elif is_inert_archive_member(member):
            notes["the other archive members hold no code"] = None
        else:
            unread.append(f"archive member {member}: {skipped.get('description')} [{category}]")
    if unread:
        return ScanOutcome(
            "modelscan", path, ScanStatus.NOT_SCANNED, detail=f"modelscan did not read: {_listed(unread)}"
        )
    if (summary.get("scanned") or {}).get("scanned_files"):
        return ScanOutcome("modelscan", path, ScanStatus.CLEAN)
    if notes:
        return ScanOutcome("modelscan", path, ScanStatus.CLEAN, detail="; ".join(notes))
    return error_outcome(path, "modelscan reported neither a scan nor a skip for this file")
