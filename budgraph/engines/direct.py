"""`latestEngineVersion` compiled into one statement (see budgraph/graphql/compiled.py): the
version's JSON, with its engine, written by PostgreSQL, and the registry version it belongs to."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

from sqlalchemy import bindparam

from budgraph import db
from budgraph.engines import repository
from budgraph.graphql.compiled import TableShape, ToOne
from budgraph.graphql.compiled_roots import CompiledRoot, RootQuery
from budgraph.settings import Settings


def _latest(arguments: Mapping[str, Any], settings: Settings) -> RootQuery:
    device = arguments.get("device_architecture")
    device_value = device.value if isinstance(device, Enum) else device  # graphql-core gives the value
    prereleases = bool(arguments.get("include_prereleases"))
    values: dict[str, Any] = {"slug": arguments["engine"]}
    if device_value is not None:
        values["device"] = device_value
    on_device = device_value is not None

    def statement() -> Any:
        device_parameter: Any = bindparam("device") if on_device else None
        return repository.latest_of_slug_statement(bindparam("slug"), device_parameter, prereleases)

    return RootQuery(statement, values, (on_device, prereleases))


LATEST_ENGINE_VERSION = CompiledRoot("EngineVersion", listed=False, query=_latest)


# The tables engines and their versions are compiled from (budgraph/graphql/compiled.py).
ENGINE_SHAPE = TableShape("Engine", db.Engine)
ENGINE_VERSION_SHAPE = TableShape(
    "EngineVersion",
    db.EngineVersion,
    relations={"engine": ToOne("Engine", lambda version, engine: engine.c.id == version.c.engine_id)},
)
