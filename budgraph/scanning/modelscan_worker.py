"""The modelscan process: ``python -m budgraph.scanning.modelscan_worker`` (started by the runner).

Reads a JSON list of file paths on stdin and writes JSON lines on stdout: first
``{"ready": true, "modelscan_version": ...}``, then one ``{"path", "report"}`` (modelscan's own
report for that file) or ``{"path", "crash", "detail"}`` per file, in order (``crash`` in words,
``detail`` the exception for the log). Scanning in a child process keeps
a hostile file away from the event loop, and lets the runner kill a scan that hangs.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any, TextIO


def _emit(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message, default=str) + "\n")
    out.flush()


def crash_reason(error: Exception) -> str:
    """Why modelscan failed on a file, in words (the exception text, with its paths, is logged)."""
    if isinstance(error, FileNotFoundError):
        return "the file disappeared before it was read"
    if isinstance(error, PermissionError):
        return "the file may not be read (permission denied)"
    if isinstance(error, MemoryError):
        return "it ran out of memory on the file"
    return "it crashed on the file"


def main() -> int:
    # The protocol owns the real stdout; anything a library prints goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        from modelscan import __version__  # type: ignore[import-untyped]
        from modelscan.modelscan import ModelScan  # type: ignore[import-untyped]

        from budgraph.scanning.modelscan_plugins import scan_settings

        paths = json.load(sys.stdin)
        scanner = ModelScan(settings=scan_settings())
    except Exception as error:  # reported, then the runner fails every file closed
        detail = f"{type(error).__name__}: {error}"
        _emit(out, {"ready": False, "error": "the scanner could not be loaded", "detail": detail})
        return 1
    _emit(out, {"ready": True, "modelscan_version": str(__version__)})
    for path in paths:
        try:
            report = scanner.scan(path)
        except Exception as error:
            detail = f"{type(error).__name__}: {error}"
            _emit(out, {"path": path, "crash": crash_reason(error), "detail": detail})
        else:
            _emit(out, {"path": path, "report": report})
    return 0


if __name__ == "__main__":
    sys.exit(main())
