"""The direct answer to `compatibleEngineVersions` (see budgraph/graphql/direct.py): the runtime
slice in one statement (the versions, their engines and the architecture, with the registry
position), parsers chosen from the process's rule book for that position.

It answers the first page of the slice (`first`, no cursors given) without `totalCount` or a
quantization filter (`quantization`, `computeCapability`; `quantizationSupported` resolves on its
own); anything else, and a slice with no rows (an unknown model or architecture is an error the
executor words), goes to the executor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import ARRAY, Select, Text, bindparam

from budgraph import db
from budgraph.compatibility import repository
from budgraph.compatibility.rulebook import book_of
from budgraph.compatibility.types import ModelArchitecture, compatible_version
from budgraph.db.enums import EngineVersionStatus
from budgraph.engines.repository import VersionQuery, versions_of_architectures_statement
from budgraph.engines.service import checked_version_key
from budgraph.engines.types import Engine, EngineVersion
from budgraph.graphql.compiled import TableShape, ToMany
from budgraph.graphql.compiled_selection import NotCompiled
from budgraph.graphql.context import Context
from budgraph.graphql.direct import DirectField, NotDirect, Prefetched, Prefixed
from budgraph.kit.child_pages import ParentKey
from budgraph.kit.cursors import encode_cursor
from budgraph.kit.direct_reads import CompiledRead, DirectReads
from budgraph.kit.ordering import ordering_id, statement_sort_keys
from budgraph.kit.pagination import Connection, Page, PageRequest, build_connection
from budgraph.registry.position import split_position, with_position

_RULES = CompiledRead(with_position(repository.enabled_rules_statement()))


@dataclass(frozen=True)
class _Shape:
    """Which arguments a slice gives (one compiled statement per shape)."""

    by_model: bool  # the architecture is the registered model's
    engine: bool
    device: bool
    endpoints: bool
    version: bool


@dataclass(frozen=True)
class _SliceRead:
    read: CompiledRead
    # The same list with only what names each row (its version and architecture ids) and its sort
    # keys: when the rows' objects were built at this position already, nothing more is read.
    ids: CompiledRead
    ordering: str  # the list order's id, as the executor's cursors carry it
    keys: int  # how many sort-key columns (``keyset_<i>``) each row has


@cache
def _slice(shape: _Shape) -> _SliceRead:
    query = repository.CompatibleQuery(
        architecture=None if shape.by_model else bindparam("architecture"),
        model=bindparam("model") if shape.by_model else None,
        statuses=bindparam("statuses", type_=ARRAY(Text)),
        engine_slug=bindparam("engine") if shape.engine else None,
        device_architecture=bindparam("device") if shape.device else None,
        endpoints=bindparam("endpoints", type_=ARRAY(Text)) if shape.endpoints else None,
        version_key=bindparam("version_key") if shape.version else None,
    )
    statement = repository.compatible_versions_statement(query)
    keys = statement_sort_keys(statement)
    keyset = [key.expression.label(f"keyset_{i}") for i, key in enumerate(keys)]
    listed = statement.add_columns(*keyset).limit(bindparam("limit"))
    named = (db.EngineVersion.id, db.ModelArchitecture.id.label("architecture__id"))
    ids = statement.with_only_columns(*named, *keyset, maintain_column_froms=True).limit(bindparam("limit"))
    return _SliceRead(
        CompiledRead(with_position(listed)), CompiledRead(with_position(ids)), ordering_id(keys), len(keys)
    )


def _value(item: Any) -> Any:
    """An enum member as its value (graphql-core may give either)."""
    return item.value if isinstance(item, Enum) else item


def _values(items: Any) -> list[str] | None:
    """Enum members as their values; None for none given."""
    return [_value(item) for item in items] if items else None


async def _not_counted() -> int:
    # `totalCount` resolves on its own (a count), so the planner hands it to the executor.
    raise NotDirect("totalCount")


async def compatible_engine_versions(
    reads: DirectReads, context: Context, arguments: dict[str, Any], prefetched: Prefetched
) -> Connection[Any]:
    if arguments["after"] is not None or arguments["before"] is not None or arguments["last"] is not None:
        raise NotDirect("a page after or before a cursor")
    if arguments["quantization"] is not None or arguments["compute_capability"] is not None:
        raise NotDirect("a quantization filter")
    page = PageRequest.parse(arguments["first"])  # a bad size is the executor's error to word
    model, architecture = arguments["model"], arguments["architecture"]
    if architecture is None and model is None:
        raise NotDirect("neither model nor architecture")
    version = arguments["version"]
    device = _value(arguments["device_architecture"])
    endpoints = _values(arguments["endpoints"])
    shape = _Shape(
        by_model=architecture is None,
        engine=arguments["engine"] is not None,
        device=device is not None,
        endpoints=endpoints is not None,
        version=version is not None,
    )
    found = _slice(shape)
    values = {
        "architecture": architecture,
        "model": model,
        "statuses": _values(arguments["statuses"]) or [EngineVersionStatus.ACTIVE.value],
        "engine": arguments["engine"],
        "device": device,
        "endpoints": endpoints,
        "version_key": checked_version_key(version) if version is not None else None,
        "limit": page.size + 1,  # one more than the page: whether a next page exists
    }
    position, rows = split_position(await reads.fetch(found.ids, values))
    if not rows:
        raise NotDirect("no rows: an unknown model or architecture, or an empty slice")
    books = context.rule_books
    book = books.get(position) or book_of(books, await reads.fetch(_RULES, {}))
    if book.position != position:
        raise NotDirect("the registry moved between the slice and its parser rules")
    prefetched.positions.append(position)
    listed = rows[: page.size]
    # Rows read at one position are the same rows: their objects are built once per position (the
    # rule book is that position's), and only a slice with a row not built yet reads the full rows.
    keys = [("slice", row["id"], row["architecture__id"], model) for row in listed]
    built: list[Any] = [book.built(key) for key in keys]
    if any(item is None for item in built):
        full_position, full = split_position(await reads.fetch(found.read, values))
        if full_position != position or [row["id"] for row in full[: page.size]] != [k[1] for k in keys]:
            raise NotDirect("the registry moved between the slice's two reads")
        arch = ModelArchitecture.from_row(Prefixed(full[0], "architecture__"))  # type: ignore[arg-type]
        for index, row in enumerate(full[: page.size]):
            if built[index] is None:
                engine_version = EngineVersion.from_row(Prefixed(row))  # type: ignore[arg-type]
                engine = Engine.from_row(Prefixed(row, "engine__"))  # type: ignore[arg-type]
                compatible = compatible_version(book, Prefixed(row), engine_version, arch, model)
                built[index] = (compatible, engine_version, engine)
                book.keep_built(keys[index], built[index])
    nodes = iter(built)

    def node(row: Any) -> Any:
        compatible, engine_version, engine = next(nodes)
        prefetched.put(engine_version, "engine", engine)
        return compatible

    labels = [f"keyset_{i}" for i in range(found.keys)]
    cursors = (
        [encode_cursor(found.ordering, tuple(row[label] for label in labels)) for row in listed]
        if prefetched.cursors
        else [""] * len(listed)  # not selected: never written
    )
    paged = Page(listed, cursors, has_previous=False, has_next=len(rows) > page.size, count=_not_counted)
    return build_connection(paged, node)


COMPATIBLE_ENGINE_VERSIONS = DirectField(
    compatible_engine_versions,
    prefetched=frozenset({("EngineVersion", "engine")}),
)


def _versions_of_architecture(arguments: Mapping[str, Any]) -> tuple[Select[Any], ParentKey]:
    if arguments.get("filter") is not None or arguments.get("order_by") is not None:
        raise NotCompiled("a filtered or ordered version list")
    query = VersionQuery()
    return versions_of_architectures_statement(query), db.CompatibilityEdge.architecture_id


# The table architectures are compiled from (budgraph/graphql/compiled.py).
MODEL_ARCHITECTURE_SHAPE = TableShape(
    "ModelArchitecture",
    db.ModelArchitecture,
    relations={"engine_versions": ToMany("EngineVersion", _versions_of_architecture, "id")},
)
