"""Run modelscan (PyPI ``modelscan``) over a model's files, failing closed.

modelscan's Python API runs in a child process (``modelscan_worker``), one file at a time: a file
that hangs is killed after ``file_timeout`` and reported ERROR, a crash costs only the file being
read, and the rest are scanned by a fresh process. ``modelscan_report`` turns its reports into
outcomes. A failure's detail says what happened in words; the process's own messages (stderr,
exception texts, paths) go to the log.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from budgraph.scanning.modelscan_report import NO_CODE_DETAIL, error_outcome, outcome_from_report
from budgraph.scanning.results import ScanOutcome

__all__ = ["NO_CODE_DETAIL", "ModelscanRun", "run_modelscan"]

WORKER_MODULE = "budgraph.scanning.modelscan_worker"
OutcomeHandler = Callable[[ScanOutcome], Awaitable[None]]
_LINE_LIMIT = 64 * 1024 * 1024
log = logging.getLogger("budgraph.scanning")


@dataclass(frozen=True)
class ModelscanRun:
    outcomes: list[ScanOutcome]
    version: str | None  # None when modelscan could not be started


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
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            WORKER_MODULE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=_LINE_LIMIT,
        )
    except OSError as error:
        log.warning("modelscan: the scanner process could not be started: %r", error)
        while pending:
            await record(error_outcome(pending.popleft(), "modelscan could not start its scanner process"))
        return None
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None
    tail: collections.deque[str] = collections.deque(maxlen=10)
    stderr_task = asyncio.create_task(_stderr_tail(process.stderr, tail))

    async def exited() -> str:
        returncode = await process.wait()
        await asyncio.wait([stderr_task], timeout=2)
        log.warning("modelscan: the scanner process exited (%s): %s", returncode, " | ".join(tail) or "-")
        return f"the scanner process exited ({returncode})"

    batch = list(pending)
    sent = _absolute_paths(root, batch)
    try:
        hello: dict[str, Any] | None
        try:
            process.stdin.write(json.dumps(sent).encode())
            await process.stdin.drain()
            process.stdin.close()
            hello = await _next_message(process.stdout, start_timeout)
        except (BrokenPipeError, ConnectionResetError):
            hello = None  # it exited before reading the file list
        except TimeoutError:
            hello = {"error": f"no answer within {start_timeout:g} s"}
        except ValueError as error:
            log.warning("modelscan: unreadable first answer: %s", error)
            hello = {"error": "its first answer was unreadable"}
        if hello is None:
            hello = {"error": await exited()}
        if not hello.get("ready"):
            if hello.get("detail"):
                log.warning("modelscan could not start: %s", hello["detail"])
            while pending:
                await record(
                    error_outcome(pending.popleft(), f"modelscan could not start: {hello.get('error')}")
                )
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
                log.warning("modelscan: unreadable result for %s: %s", path, error)
                failure = "its answer was unreadable"
            if failure is None and message is None:
                failure = await exited()
            elif message is not None and message.get("path") != sent_path:
                log.warning("modelscan: asked about %s, answered about %s", sent_path, message.get("path"))
                failure = "it answered about another file"
            pending.popleft()
            if failure is not None or message is None:
                # The process is killed below; the caller starts a fresh one for the rest.
                await record(error_outcome(path, f"modelscan failed: {failure}"))
                break
            if "crash" in message:
                log.warning("modelscan failed on %s: %s", path, message.get("detail"))
                await record(error_outcome(path, f"modelscan failed: {message['crash']}"))
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
