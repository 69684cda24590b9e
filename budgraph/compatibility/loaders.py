"""Per-request loaders of architectures, compatibility and parser rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from budgraph import db
from budgraph.compatibility import repository
from budgraph.engines.loaders import version_order
from budgraph.engines.repository import VersionQuery, versions_statement
from budgraph.kit.db import AnyRow
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader, SessionLoader
from budgraph.kit.ordering import order_terms


class ModelArchitectureByIdLoader(RowByIdLoader[db.ModelArchitecture]):
    table = db.ModelArchitecture


class ParserRuleByIdLoader(RowByIdLoader[db.ParserRule]):
    table = db.ParserRule


class CompatibilityEdgeByIdLoader(RowByIdLoader[db.CompatibilityEdge]):
    table = db.CompatibilityEdge


class ModelArchitectureByClassNameLoader(SessionLoader[str, AnyRow | None]):
    async def load_many_keys(self, keys: list[str]) -> list[AnyRow | None]:
        rows = await repository.architecture_rows_by_class_names(self.session, keys)
        by_name = {row.class_name: row for row in rows}
        return [by_name.get(key) for key in keys]


ARCHITECTURE_ORDER_COLUMNS = {
    "class_name": db.ModelArchitecture.class_name,
    "family": db.ModelArchitecture.family,
    "created_at": db.ModelArchitecture.created_at,
}


def architecture_order(order: tuple[str, str] | None) -> list[ColumnElement[Any]]:
    """ORDER BY terms for an (order field, direction) pair; default: class name ascending."""
    field, direction = order or ("class_name", "asc")
    return order_terms(ARCHITECTURE_ORDER_COLUMNS, field, direction, db.ModelArchitecture.id)


class ArchitecturePagesByEngineVersionLoader(ChildPageLoader[db.ModelArchitecture]):
    """A page of supported architectures per engine version. Args: page, ArchitectureQuery, order."""

    entity = db.ModelArchitecture

    def statement(self) -> ChildQuery:
        query, order = self.args[1], self.args[2]
        assert isinstance(query, repository.ArchitectureQuery)
        assert order is None or isinstance(order, tuple)
        stmt = repository.architectures_of_versions_statement(query)
        return stmt, db.CompatibilityEdge.engine_version_id, architecture_order(order)


class EngineVersionPagesByArchitectureLoader(ChildPageLoader[db.EngineVersion]):
    """A page of engine versions supporting each architecture. Args: page, VersionQuery, order.

    Default order: by engine, highest version first.
    """

    entity = db.EngineVersion

    def statement(self) -> ChildQuery:
        query, order = self.args[1], self.args[2]
        assert isinstance(query, VersionQuery)
        stmt = versions_statement(query).join(
            db.CompatibilityEdge, db.CompatibilityEdge.engine_version_id == db.EngineVersion.id
        )
        if isinstance(order, tuple):
            terms = version_order(*order)
        else:
            terms = [db.EngineVersion.engine_id.asc(), *version_order("version", "desc")]
        return stmt, db.CompatibilityEdge.architecture_id, terms


class ParserRulesByEngineLoader(SessionLoader[int, list[db.ParserRule]]):
    """Enabled parser rules per engine id, highest priority first."""

    async def load_many_keys(self, keys: list[int]) -> list[list[db.ParserRule]]:
        rules = await repository.rules_for_engines(self.session, keys)
        by_engine: dict[int, list[db.ParserRule]] = {key: [] for key in keys}
        for rule in rules:
            by_engine[rule.engine_id].append(rule)
        return [by_engine[key] for key in keys]
