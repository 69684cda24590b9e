"""The recorded samples shipped under ``samples/``: small, illustrative bodies in each source's real
format (see samples/README.md), for tests and for an offline dev server."""

from __future__ import annotations

from datetime import datetime
from importlib import resources

from budgraph.leaderboards.sources.base import LeaderboardSource, SourceSnapshot


def sample_payloads(source: LeaderboardSource) -> list[bytes]:
    """The sample bodies of ``source``, in the order its ``parse`` expects."""
    folder = resources.files("budgraph.leaderboards.sources").joinpath("samples")
    return [folder.joinpath(name).read_bytes() for name in source.sample_files]


def sample_snapshot(source: LeaderboardSource, fetched_at: datetime) -> SourceSnapshot:
    return source.parse(sample_payloads(source), fetched_at)
