"""Synthetic rows that grow with use: registered models and leaderboards with their history.

Model uris look like the Hub's (``nova-labs-123/qwen-coder-7b-instruct``), unique in any casing
(the Hub index on ``lower(uri)``). Leaderboards keep weekly snapshots per source, as refreshes do;
only the latest is ranked. The first model is the *probe*: it is on every benchmark of every
snapshot, so the model scenario always has scores to read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.catalogue import SOURCE
from bench.scale import Scale

Row = dict[str, Any]

ORGS = ["nova-labs", "deepfield", "openmind", "tinyllm", "quantco", "mistralish", "polyglot", "bitwise"]
FAMILIES = ["llama", "qwen", "mistral", "gemma", "phi", "falcon", "granite", "olmo", "yi", "deepseek"]
NAMES = ["coder", "chat", "math", "vision", "base", "long", "tiny", "med", "legal", "finance", "agent"]
SUFFIXES = ["instruct", "chat", "base", "awq", "gptq", "gguf", "it", "preview"]
SIZES = [0.5, 1, 1.5, 3, 7, 8, 13, 14, 32, 34, 70, 72, 405]
LEADERBOARDS = ["arena", "coding", "reasoning", "vision", "speed", "safety", "multilingual", "longctx"]
METRICS = [
    ("overall", "elo", True),
    ("hard", "percent", True),
    ("style", "percent", True),
    ("latency", "ms", False),
    ("cost", "usd", False),
]
ENTRY_COLUMNS = (
    "benchmark_id",
    "snapshot_id",
    "model_id",
    "match_method",
    "raw_model_name",
    "score",
    "rank",
    "source",
    "published_on",
)


def models(
    rng: random.Random, scale: Scale, architectures: list[str], licenses: list[int], next_id: int
) -> list[Row]:
    # Popular architectures hold most models, as on the Hub.
    weights = [1.0 / (rank + 1) for rank in range(len(architectures))]
    arch_choices = rng.choices(architectures, weights=weights, k=scale.models)
    taken: set[str] = set()
    rows: list[Row] = []
    for i in range(scale.models):
        org = f"{rng.choice(ORGS)}-{rng.randint(1, 999)}"
        size = rng.choice(SIZES)
        label = f"{size:g}".replace(".", "_")
        uri = f"{org}/{rng.choice(FAMILIES)}-{rng.choice(NAMES)}-{label}b-{rng.choice(SUFFIXES)}"
        if uri.lower() in taken:
            uri = f"{uri}-{i}"
        taken.add(uri.lower())
        rows.append(
            {
                "id": next_id + i,
                "uri": uri,
                "source_kind": "huggingface",
                "author": org,
                "architecture": arch_choices[i],
                "modality": "text",
                "parameter_count": int(size * 1_000_000_000) + rng.randint(0, 99_999_999),
                "context_length": rng.choice([2048, 4096, 8192, 32768, 131072]),
                "license_id": rng.choice(licenses),
                # The change log holds an update `registered` -> `ready` for the first models.
                "status": "ready" if i < scale.model_updates else rng.choice(["registered", "ready"]),
                "revision": "main",
                "origin": "api",
                "source": SOURCE,
            }
        )
    return rows


@dataclass(frozen=True)
class Leaderboards:
    sources: list[Row]
    snapshots: list[Row]
    benchmarks: list[Row]

    def current_snapshot(self, source_key: str) -> int:
        source_id = next(row["id"] for row in self.sources if row["key"] == source_key)
        mine = [row for row in self.snapshots if row["source_id"] == source_id]
        return max(mine, key=lambda row: (row["fetched_at"], row["id"]))["id"]


def leaderboards(scale: Scale, ids: dict[str, int], now: datetime) -> Leaderboards:
    """Sources, their weekly snapshots and their benchmarks (``ids``: next free id per table)."""
    sources, snapshots, benchmarks = [], [], []
    for s, name in enumerate(LEADERBOARDS[: scale.sources]):
        key = f"bench-{name}"
        source_id = ids["leaderboard_source"] + s
        sources.append(
            {
                "id": source_id,
                "key": key,
                "name": f"Bench {name.title()} Leaderboard",
                "homepage_url": f"https://leaderboards.example.com/{name}",
                "enabled": True,
                "last_status": "succeeded",
                "last_started_at": now,
                "last_success_started_at": now,
                "last_finished_at": now,
            }
        )
        for week in range(scale.snapshots_per_source):
            fetched = now - timedelta(weeks=scale.snapshots_per_source - 1 - week)
            snapshots.append(
                {
                    "id": ids["leaderboard_snapshot"] + len(snapshots),
                    "source_id": source_id,
                    "fetched_at": fetched,
                    "published_on": fetched.date(),
                    "entry_count": scale.entries_per_benchmark_snapshot * scale.benchmarks_per_source,
                }
            )
        for metric, unit, higher in METRICS[: scale.benchmarks_per_source]:
            benchmarks.append(
                {
                    "id": ids["benchmark"] + len(benchmarks),
                    "key": f"{key}:{metric}",
                    "source_key": key,
                    "name": f"{name.title()} {metric}",
                    "category": name,
                    "unit": unit,
                    "scale": "elo" if unit == "elo" else "ratio",
                    "higher_is_better": higher,
                    "origin": "api",
                    "source": SOURCE,
                }
            )
    return Leaderboards(sources, snapshots, benchmarks)


def entries(
    rng: random.Random, scale: Scale, boards: Leaderboards, model_rows: list[Row]
) -> Iterator[tuple[Any, ...]]:
    """Every snapshot's entries: most name a registry model (by uri), some are unmatched names."""
    per = scale.entries_per_benchmark_snapshot
    sources = {row["id"]: row["key"] for row in boards.sources}
    probe = model_rows[0]
    for snapshot in boards.snapshots:
        source = sources[snapshot["source_id"]]
        published: date = snapshot["published_on"]
        for benchmark in boards.benchmarks:
            if benchmark["source_key"] != source:
                continue
            picked = [probe, *rng.sample(model_rows[1:], min(per - 1, len(model_rows) - 1))]
            scored = []
            for n, model in enumerate(picked):
                matched = n == 0 or rng.random() < 0.8
                name = model["uri"] if matched else f"unlisted/{model['uri'].split('/')[1]}-{n}"
                scored.append((rng.randint(1_000, 99_999_999), model["id"] if matched else None, name))
            scored.sort(key=lambda item: item[0], reverse=benchmark["higher_is_better"])
            for rank, (score, model_id, name) in enumerate(scored, start=1):
                yield (
                    benchmark["id"],
                    snapshot["id"],
                    model_id,
                    "exact" if model_id is not None else None,
                    name,
                    Decimal(score).scaleb(-4),
                    rank,
                    source,
                    published,
                )


def generated_at() -> datetime:
    """Snapshots are dated from a fixed day, so the data (and its answers) do not depend on today."""
    return datetime(2025, 6, 2, 3, 0, tzinfo=UTC)
