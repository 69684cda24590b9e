"""Public leaderboards, read in the machine-readable form each one publishes."""

from budgraph.leaderboards.sources.base import (
    BenchmarkSpec,
    LeaderboardSource,
    RawEntry,
    SourceRequest,
    SourceSettings,
    SourceSnapshot,
    StaticSourceSettings,
)
from budgraph.leaderboards.sources.collect import SourceFetch, fetch_source
from budgraph.leaderboards.sources.errors import (
    SourceError,
    SourceFetchError,
    SourceNotConfigured,
    SourceParseError,
)
from budgraph.leaderboards.sources.fetch import CachedValidators, FetchResult, RetryPolicy, fetch
from budgraph.leaderboards.sources.registry import SOURCES
from budgraph.leaderboards.sources.samples import sample_payloads, sample_snapshot

__all__ = [
    "SOURCES",
    "BenchmarkSpec",
    "CachedValidators",
    "FetchResult",
    "LeaderboardSource",
    "RawEntry",
    "RetryPolicy",
    "SourceError",
    "SourceFetch",
    "SourceFetchError",
    "SourceNotConfigured",
    "SourceParseError",
    "SourceRequest",
    "SourceSettings",
    "SourceSnapshot",
    "StaticSourceSettings",
    "fetch",
    "fetch_source",
    "sample_payloads",
    "sample_snapshot",
]
