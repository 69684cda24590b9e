"""What a leaderboard source is: the benchmarks it ranks, what to fetch, and how to read it.

A source never touches the network or the database itself. ``requests`` names what to fetch,
``follow_ups`` names further pages once a body is known (paginated APIs), and ``parse`` turns the
bodies, in the order they were requested, into a ``SourceSnapshot`` of raw entries.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import ClassVar, Literal, Protocol

from budgraph.leaderboards.sources.errors import SourceParseError

Scale = Literal["0-100", "0-1", "elo", "unbounded"]
JsonScalar = str | int | float | bool | None


@dataclass(frozen=True)
class BenchmarkSpec:
    """One ranked quantity. ``scale``: "0-100" and "0-1" are bounded scores, "elo" a relative rating,
    "unbounded" a measurement such as tokens/s or a price; ``unit`` is what a dashboard prints."""

    key: str
    name: str
    category: str
    unit: str
    scale: Scale
    higher_is_better: bool


@dataclass(frozen=True)
class SourceRequest:
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RawEntry:
    """A score as the leaderboard publishes it; ``raw_model_name`` is the leaderboard's own name."""

    raw_model_name: str
    benchmark_key: str
    score: Decimal
    rank: int | None
    extra: dict[str, JsonScalar] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceSnapshot:
    """Every entry of one refresh; (raw_model_name, benchmark_key) is unique."""

    published_on: date | None
    entries: list[RawEntry]


class SourceSettings(Protocol):
    """The settings sources read; ``budgraph.settings.Settings`` satisfies it once it has the key."""

    @property
    def hf_token(self) -> str | None: ...

    @property
    def artificial_analysis_api_key(self) -> str | None: ...


@dataclass(frozen=True)
class StaticSourceSettings:
    """Explicit settings (tests, scripts, the offline dev server)."""

    hf_token: str | None = None
    artificial_analysis_api_key: str | None = None


class LeaderboardSource(ABC):
    key: ClassVar[str]
    name: ClassVar[str]
    homepage_url: ClassVar[str]
    benchmarks: ClassVar[Sequence[BenchmarkSpec]]
    # The recorded sample payloads under ``samples/``, in the order ``parse`` expects them.
    sample_files: ClassVar[Sequence[str]]

    @abstractmethod
    def requests(self, settings: SourceSettings) -> list[SourceRequest]:
        """What to fetch first. Raises ``SourceNotConfigured`` when a needed setting is missing."""

    def follow_ups(self, request: SourceRequest, body: bytes) -> list[SourceRequest]:
        """Further requests implied by a fetched body (the next page); none by default."""
        return []

    @abstractmethod
    def parse(self, payloads: Sequence[bytes], fetched_at: datetime) -> SourceSnapshot:
        """The snapshot in the bodies (in request order). Raises ``SourceParseError``."""

    def benchmark(self, key: str) -> BenchmarkSpec:
        for spec in self.benchmarks:
            if spec.key == key:
                return spec
        raise KeyError(f"{self.key} has no benchmark {key!r}")

    def snapshot(self, published_on: date | None, entries: Iterable[RawEntry]) -> SourceSnapshot:
        """A snapshot of ``entries`` after checking them against ``benchmarks``."""
        known = {spec.key for spec in self.benchmarks}
        seen: set[tuple[str, str]] = set()
        checked: list[RawEntry] = []
        for entry in entries:
            if entry.benchmark_key not in known:
                raise SourceParseError(f"{self.key}: unknown benchmark {entry.benchmark_key!r}")
            pair = (entry.raw_model_name, entry.benchmark_key)
            if pair in seen:
                raise SourceParseError(f"{self.key}: {pair[0]!r} is listed twice for {pair[1]!r}")
            seen.add(pair)
            checked.append(entry)
        return SourceSnapshot(published_on=published_on, entries=checked)


def expect_payloads(source: LeaderboardSource, payloads: Sequence[bytes], count: int | None) -> None:
    """Refuse a payload list of the wrong length (``count`` None: at least one)."""
    if count is None and not payloads:
        raise SourceParseError(f"{source.key}: no payload to parse")
    if count is not None and len(payloads) != count:
        raise SourceParseError(f"{source.key}: expected {count} payloads, got {len(payloads)}")
