"""Per-request loaders of providers and their models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select

from budgraph import db
from budgraph.kit.loaders import ChildPageLoader, RowByIdLoader
from budgraph.providers import repository


class ProviderByIdLoader(RowByIdLoader[db.Provider]):
    table = db.Provider


class ProviderModelByIdLoader(RowByIdLoader[db.ProviderModel]):
    table = db.ProviderModel


class ModelPagesByProviderLoader(ChildPageLoader[db.ProviderModel]):
    """A page of models per provider. Args: page, ProviderModelQuery, (order field, direction)."""

    entity = db.ProviderModel

    def statement(self) -> tuple[Select[Any], ColumnElement[Any], list[ColumnElement[Any]]]:
        _, query, order = self.args
        assert isinstance(query, repository.ProviderModelQuery)
        assert isinstance(order, tuple)
        stmt = repository.provider_models_statement(query)
        return stmt, db.ProviderModel.provider_id.expression, repository.model_order(*order)
