"""Per-request loaders of providers and their models."""

from __future__ import annotations

from budgraph import db
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader
from budgraph.providers import repository


class ProviderByIdLoader(RowByIdLoader[db.Provider]):
    table = db.Provider


class ProviderModelByIdLoader(RowByIdLoader[db.ProviderModel]):
    table = db.ProviderModel


# A provider model list: its filter, and its order (field, direction).
ProviderModelList = tuple[repository.ProviderModelQuery, tuple[str, str]]


class ModelPagesByProviderLoader(ChildPageLoader[ProviderModelList]):
    """A page of models per provider."""

    def statement(self) -> ChildQuery:
        return repository.provider_models_statement(*self.query), db.ProviderModel.provider_id
