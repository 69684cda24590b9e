"""Run modelscan (PyPI ``modelscan``) over a model's files and turn its reports into outcomes.

modelscan's Python API runs in a child process (``modelscan_worker``), one file at a time: a file
that hangs is killed after ``file_timeout`` and reported ERROR, a crash costs only the file being
read, and the rest are scanned by a fresh process. Nothing here reports CLEAN for a file that
modelscan did not read, unless its format cannot carry code (``formats.is_code_free``).
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from budgraph.scanning.formats import is_code_free, is_inert_archive_member
from budgraph.scanning.results import ScanOutcome, ScanStatus, Severity, highest

WORKER_MODULE = "budgraph.scanning.modelscan_worker"
NO_CODE_DETAIL = "format has no code execution"
OutcomeHandler = Callable[[ScanOutcome], Awaitable[None]]

_LINE_LIMIT = 64 * 1024 * 1024
_FORMAT_OF_SCANNER = {
    "modelscan.scanners.PickleUnsafeOpScan": "pickle",
    "modelscan.scanners.PyTorchUnsafeOpScan": "pytorch",
    "modelscan.scanners.NumpyUnsafeOpScan": "numpy",
    "modelscan.scanners.H5LambdaDetectScan": "keras h5",
    "budgraph.scanning.modelscan_plugins.KerasConfigLambdaScan": "keras",
    "modelscan.scanners.SavedModelLambdaDetectScan": "saved model",
    "modelscan.scanners.SavedModelTensorflowOpScan": "saved model",
}
# A weights-only HDF5 file has no model config, hence no layers (and no Lambda) to execute.
_WEIGHTS_ONLY = "MODEL_CONFIG"


@dataclass(frozen=True)
class ModelscanRun:
    outcomes: list[ScanOutcome]
    version: str | None  # None when modelscan could not be started


def _error(path: str, detail: str) -> ScanOutcome:
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
        return _error(path, _listed(errors))

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
    return _error(path, "modelscan reported neither a scan nor a skip for this file")


def _absolute_paths(root: Path, files: Sequence[str]) -> list[str]:
    """What the worker opens: the paths as given (not resolved), so their names keep their suffixes."""
    base = root.absolute()
    return [str(base / path) for path in files]


async def _stderr_tail(stream: asyncio.StreamReader, tail: collections.deque[str]) -> None:
    while line := await stream.readline():
        tail.append(line.decode(errors="replace").rstrip())


async def _next_message(stdout: asyncio.StreamReader, seconds: float) -> dict[str, Any] | None:
    """The next JSON line, None at end of output; TimeoutError, ValueError on a bad line."""
    async with asyncio.timeout(seconds):
        line = await stdout.readline()
    if not line:
        return None
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError(f"unexpected message {line[:200]!r}")
    return message


async def _scan_in_one_process(
    root: Path,
    pending: collections.deque[str],
    record: OutcomeHandler,
    start_timeout: float,
    file_timeout: float,
) -> str | None:
    """Scan ``pending`` (consumed from the left) until done or the process fails on a file.

    Returns modelscan's version, or None (and every pending file ERROR) when it could not start.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER_MODULE,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=_LINE_LIMIT,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    tail: collections.deque[str] = collections.deque(maxlen=10)
    stderr_task = asyncio.create_task(_stderr_tail(process.stderr, tail))

    async def exited() -> str:
        returncode = await process.wait()
        await asyncio.wait([stderr_task], timeout=2)
        return f"the worker exited ({returncode})" + (f": {' | '.join(tail)}" if tail else "")

    batch = list(pending)
    sent = _absolute_paths(root, batch)
    try:
        process.stdin.write(json.dumps(sent).encode())
        await process.stdin.drain()
        process.stdin.close()
        try:
            hello = await _next_message(process.stdout, start_timeout)
        except (TimeoutError, ValueError) as error:
            hello = {"error": f"{type(error).__name__} {error}".strip()}
        if hello is None:
            hello = {"error": await exited()}
        if not hello.get("ready"):
            while pending:
                await record(_error(pending.popleft(), f"modelscan could not start: {hello.get('error')}"))
            return None
        version = str(hello.get("modelscan_version"))
        for path, sent_path in zip(batch, sent, strict=True):
            failure: str | None = None
            message: dict[str, Any] | None = None
            try:
                message = await _next_message(process.stdout, file_timeout)
            except TimeoutError:
                failure = f"no result within {file_timeout:g} s"
            except ValueError as error:
                failure = f"unreadable result: {error}"
            if failure is None and message is None:
                failure = await exited()
            elif message is not None and message.get("path") != sent_path:
                failure = f"result for another file: {message.get('path')!r}"
            pending.popleft()
            if failure is not None or message is None:
                # The process is killed below; the caller starts a fresh one for the rest.
                await record(_error(path, f"modelscan failed: {failure}"))
                break
            if "crash" in message:
                await record(_error(path, f"modelscan failed: {message['crash']}"))
            else:
                await record(outcome_from_report(path, message.get("report") or {}))
        return version
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()
        stderr_task.cancel()
        await asyncio.gather(stderr_task, return_exceptions=True)


async def run_modelscan(
    root: Path,
    files: Sequence[str],
    *,
    file_timeout: float = 600.0,
    start_timeout: float = 60.0,
    on_outcome: OutcomeHandler | None = None,
) -> ModelscanRun:
    """One modelscan outcome per file in ``files`` (paths relative to ``root``), in order."""
    outcomes: list[ScanOutcome] = []

    async def record(outcome: ScanOutcome) -> None:
        outcomes.append(outcome)
        if on_outcome is not None:
            await on_outcome(outcome)

    pending = collections.deque(files)
    version: str | None = None
    while pending:
        started = await _scan_in_one_process(root, pending, record, start_timeout, file_timeout)
        if started is None:
            break
        version = started
    return ModelscanRun(outcomes, version)
