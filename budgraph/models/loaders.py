"""Per-request loaders of models and licenses."""

from __future__ import annotations

from budgraph import db
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader
from budgraph.models import repository


class ModelByIdLoader(RowByIdLoader[db.Model]):
    table = db.Model


class LicenseByIdLoader(RowByIdLoader[db.License]):
    table = db.License


class ModelPagesByEngineVersionLoader(ChildPageLoader[repository.ModelQuery]):
    """A page of the models each engine version can serve."""

    def statement(self) -> ChildQuery:
        return repository.models_served_statement(self.query), db.CompatibilityEdge.engine_version_id
