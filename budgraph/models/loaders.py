"""Per-request loaders of models and licenses."""

from __future__ import annotations

from budgraph import db
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader
from budgraph.models import repository


class ModelByIdLoader(RowByIdLoader[db.Model]):
    table = db.Model


class LicenseByIdLoader(RowByIdLoader[db.License]):
    table = db.License


class ModelPagesByEngineVersionLoader(ChildPageLoader[db.Model]):
    """A page of the models each engine version can serve. Args: page, ModelQuery."""

    entity = db.Model

    def statement(self) -> ChildQuery:
        query = self.args[1]
        assert isinstance(query, repository.ModelQuery)
        stmt = repository.models_served_statement(query)
        return stmt, db.CompatibilityEdge.engine_version_id, [db.Model.uri.asc(), db.Model.id.asc()]
