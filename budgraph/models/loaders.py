"""Per-request loaders of models and licenses."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from budgraph import db
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader
from budgraph.kit.ordering import order_terms
from budgraph.models import repository


class ModelByIdLoader(RowByIdLoader[db.Model]):
    table = db.Model


class LicenseByIdLoader(RowByIdLoader[db.License]):
    table = db.License


MODEL_ORDER_COLUMNS = {
    "uri": db.Model.uri,
    "parameter_count": db.Model.parameter_count,
    "context_length": db.Model.context_length,
    "created_at": db.Model.created_at,
}


def model_order(order: tuple[str, str] | None) -> list[ColumnElement[Any]]:
    """ORDER BY terms for an (order field, direction) pair; default: uri ascending."""
    field, direction = order or ("uri", "asc")
    return order_terms(MODEL_ORDER_COLUMNS, field, direction, db.Model.id)


class ModelPagesByEngineVersionLoader(ChildPageLoader[db.Model]):
    """A page of the models each engine version can serve. Args: page, ModelQuery, order."""

    entity = db.Model

    def statement(self) -> ChildQuery:
        query, order = self.args[1], self.args[2]
        assert isinstance(query, repository.ModelQuery)
        assert order is None or isinstance(order, tuple)
        stmt = repository.models_served_statement(query)
        return stmt, db.CompatibilityEdge.engine_version_id, model_order(order)
