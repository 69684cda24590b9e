"""How extraction fails: transient failures are retried by the job, permanent ones are reported."""

from __future__ import annotations


class ExtractionError(Exception):
    """Base of every error raised by ``budgraph.extraction``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SourceUnavailable(ExtractionError):
    """A transient failure (connection error, timeout, HTTP 5xx or 429): the same call may work later."""


class ExtractionFailed(ExtractionError):
    """A permanent failure (no such repository, gated without access, broken files): retrying won't help."""


class SourceNotFound(ExtractionFailed):
    """The repository (or its revision) does not exist, or is gated or private without access."""


class UnsafeUrl(ExtractionFailed):
    """A URL that must not be fetched: not http(s), or its host resolves to a non-public address."""


class FileTooLarge(ExtractionFailed):
    """A file is larger than the cap for reading it whole."""
