"""How reading a leaderboard fails: fetch errors say whether a retry may help; parse errors never do."""

from __future__ import annotations


class SourceError(Exception):
    """Base of every error raised by ``budgraph.leaderboards.sources``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SourceFetchError(SourceError):
    """A request failed. ``transient``: connection errors, timeouts, HTTP 429 and 5xx (retry later);
    otherwise the request itself is wrong (404, 401/403 without a valid key, a body over the cap)."""

    def __init__(self, message: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(message)
        self.transient = transient
        self.status = status


class SourceParseError(SourceError):
    """A payload is not in the format the source publishes (the format changed, or a wrong body)."""


class SourceNotConfigured(SourceError):
    """The source needs a setting that is missing (an API key)."""
