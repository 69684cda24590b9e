"""The indexes that read lists in their orders, so a page reads its own rows instead of sorting a table.

Every list's ORDER BY (its default and each order it offers, with the tie-breaks the repositories add)
has an index with the same columns, directions and NULL placement: PostgreSQL then reads a page, or
its reverse for `last`/`before`, straight from the index and stops after n + 1 rows. Nested lists
lead with their parent key, so a LATERAL page per parent is one short index range.

A column is written ``"name"`` (ASC, NULLS LAST: PostgreSQL's default), ``"-name"`` (DESC NULLS
LAST, what ``direction_of`` sorts by) or ``"~name"`` (DESC, NULLS FIRST: PostgreSQL's default for
DESC). Migration 0008 creates exactly these; ``tests/platform/test_migrations.py`` checks that the
database and this module agree, and ``tests/graph/test_list_indexes.py`` that every root list's page
is read without a Sort.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Index, Table

from budgraph.db.auth import ApiKey
from budgraph.db.base import Base
from budgraph.db.catalog import License, Model
from budgraph.db.engines import CompatibilityEdge, Engine, EngineVersion, ModelArchitecture, ParserRule
from budgraph.db.hardware import Hardware, HardwarePrice
from budgraph.db.jobs import Job
from budgraph.db.leaderboards import Benchmark, LeaderboardEntry, ModelAlias
from budgraph.db.providers import Provider, ProviderModel
from budgraph.db.registry import ChangeLogEntry

MAX_NAME = 63  # PostgreSQL's identifier limit


def _by(*fields: str) -> list[tuple[str, ...]]:
    """An order on each field, ascending and descending (NULLS LAST both ways), then ``id``."""
    return [shape for field in fields for shape in ((field, "id"), (f"-{field}", "id"))]


def _versions(prefix: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``version_order``: the field, the device, then id in the field's direction."""
    shapes: list[tuple[str, ...]] = []
    for field in ("version_key", "release_date", "created_at"):
        shapes.append((*prefix, field, "device_architecture", "id"))
        shapes.append((*prefix, f"-{field}", "device_architecture", "~id"))
    return shapes


def _then(tie: str, *fields: str) -> list[tuple[str, ...]]:
    """An order on each field both ways, then ``tie`` ascending, then id (a field equal to the
    tie is not repeated: PostgreSQL drops the redundant sort key)."""
    shapes: list[tuple[str, ...]] = []
    for field in fields:
        for lead in (field, f"-{field}"):
            shapes.append((lead, "id") if field == tie else (lead, tie, "id"))
    return shapes


def _under(parent: str, shapes: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [(parent, *shape) for shape in shapes]


_PRICE_ORDERS = _then("on_demand_per_hour", "on_demand_per_hour", "spot_per_hour", "as_of")
_PROVIDER_MODEL_ORDERS = _then(
    "model_id", "model_id", "input_per_million", "output_per_million", "max_input_tokens"
)

READ_ORDERS: dict[type[Base], list[tuple[str, ...]]] = {
    Engine: _by("slug", "name", "created_at"),
    EngineVersion: [*_versions(("engine_id",)), *_versions(())],
    CompatibilityEdge: [("architecture_id", "engine_version_id")],
    ModelArchitecture: _by("class_name", "family", "created_at"),
    ParserRule: [("engine_id", "~priority", "id"), *_by("priority", "pattern", "parser", "created_at")],
    Model: _by("uri", "parameter_count", "context_length", "created_at"),
    License: _by("key", "name", "kind"),
    Provider: [
        shape for field in ("slug", "name", "created_at") for shape in ((field, "id"), (f"~{field}", "id"))
    ],
    ProviderModel: [*_PROVIDER_MODEL_ORDERS, *_under("provider_id", _PROVIDER_MODEL_ORDERS)],
    Hardware: _then("name", "name", "memory_gb", "memory_bandwidth_gbps", "peak_bf16_tflops", "release_year"),
    HardwarePrice: [
        *_PRICE_ORDERS,
        *_under("hardware_id", _PRICE_ORDERS),
        *_under("provider_id", _PRICE_ORDERS),
    ],
    Job: [("model_id", "id")],
    Benchmark: [("key", "id")],
    # The ranking of one benchmark: by stored position, ties by name (leaderboards/repository.py);
    # by score in either direction as other readers (PostGraphile's orderBy) list it.
    LeaderboardEntry: [
        ("benchmark_id", "snapshot_id", "position", "raw_model_name", "id"),
        ("benchmark_id", "snapshot_id", "-score", "raw_model_name", "id"),
        ("benchmark_id", "snapshot_id", "score", "raw_model_name", "id"),
    ],
    ModelAlias: [("model_id", "key")],
    ChangeLogEntry: [("registry_version", "id")],
    ApiKey: [("name", "id")],
}


def index_name(table: str, shape: tuple[str, ...]) -> str:
    words = [
        f"{part[1:]}_desc" if part[0] == "-" else f"{part[1:]}_desc_nf" if part[0] == "~" else part
        for part in shape
    ]
    name = f"ix_{table}_by_{'_'.join(words)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.blake2b(name.encode(), digest_size=4).hexdigest()
    return f"{name[: MAX_NAME - 9]}_{digest}"


def _term(table: Table, part: str) -> Any:
    if part[0] == "-":
        return table.c[part[1:]].desc().nulls_last()
    if part[0] == "~":
        return table.c[part[1:]].desc()
    return table.c[part]


def _declare() -> None:
    for entity, shapes in READ_ORDERS.items():
        table = entity.__table__
        assert isinstance(table, Table)
        for shape in shapes:
            Index(index_name(table.name, shape), *(_term(table, part) for part in shape))


_declare()
