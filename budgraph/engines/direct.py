"""The direct answer to `latestEngineVersion` (see budgraph/graphql/direct.py): one statement, which
also reads the registry version the answer belongs to."""

from __future__ import annotations

from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import bindparam

from budgraph import db
from budgraph.engines import repository
from budgraph.engines.types import Engine, EngineVersion
from budgraph.graphql.compiled import TableShape, ToOne
from budgraph.graphql.context import Context
from budgraph.graphql.direct import DirectField, Prefetched, Prefixed
from budgraph.kit.direct_reads import CompiledRead, DirectReads
from budgraph.registry.position import split_position, with_position


@cache
def _latest(on_device: bool, include_prereleases: bool) -> CompiledRead:
    device: Any = bindparam("device") if on_device else None
    statement = repository.latest_of_slug_statement(bindparam("slug"), device, include_prereleases)
    return CompiledRead(with_position(statement))


async def latest_engine_version(
    reads: DirectReads, context: Context, arguments: dict[str, Any], prefetched: Prefetched
) -> EngineVersion | None:
    device = arguments["device_architecture"]
    device_value = device.value if isinstance(device, Enum) else device  # graphql-core gives the value
    read = _latest(device_value is not None, bool(arguments["include_prereleases"]))
    position, rows = split_position(
        await reads.fetch(read, {"slug": arguments["engine"], "device": device_value})
    )
    prefetched.positions.append(position)
    if not rows:
        return None
    # A record of the same columns stands in for the table's object (from_row reads attributes).
    version = EngineVersion.from_row(Prefixed(rows[0]))  # type: ignore[arg-type]
    prefetched.put(version, "engine", Engine.from_row(Prefixed(rows[0], "engine__")))  # type: ignore[arg-type]
    return version


LATEST_ENGINE_VERSION = DirectField(latest_engine_version, frozenset({("EngineVersion", "engine")}))


# The tables engines and their versions are compiled from (budgraph/graphql/compiled.py).
ENGINE_SHAPE = TableShape("Engine", db.Engine)
ENGINE_VERSION_SHAPE = TableShape(
    "EngineVersion",
    db.EngineVersion,
    relations={"engine": ToOne("Engine", lambda version, engine: engine.c.id == version.c.engine_id)},
)
