"""Per-request loaders of hardware SKUs and their prices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select

from budgraph import db
from budgraph.hardware import repository
from budgraph.kit.loaders import ChildPageLoader, RowByIdLoader, SessionLoader


class HardwareByIdLoader(RowByIdLoader[db.Hardware]):
    table = db.Hardware


class HardwarePriceByIdLoader(RowByIdLoader[db.HardwarePrice]):
    table = db.HardwarePrice


class _PricePages(ChildPageLoader[db.HardwarePrice]):
    """Args: page, PriceQuery, (order field, direction)."""

    entity = db.HardwarePrice
    parent_key: ColumnElement[int]

    def statement(self) -> tuple[Select[Any], ColumnElement[Any], list[ColumnElement[Any]]]:
        _, query, order = self.args
        assert isinstance(query, repository.PriceQuery)
        assert isinstance(order, tuple)
        return repository.prices_statement(query), self.parent_key, repository.price_order(*order)


class PricePagesByHardwareLoader(_PricePages):
    """A page of prices per hardware SKU."""

    parent_key = db.HardwarePrice.hardware_id.expression


class PricePagesByProviderLoader(_PricePages):
    """A page of hardware prices per provider."""

    parent_key = db.HardwarePrice.provider_id.expression


class CheapestPriceByHardwareLoader(SessionLoader[int, db.HardwarePrice | None]):
    """The cheapest current on-demand price per hardware id. Args: region or None, currency."""

    async def load_many_keys(self, keys: list[int]) -> list[db.HardwarePrice | None]:
        region, currency = self.args
        assert region is None or isinstance(region, str)
        assert isinstance(currency, str)
        cheapest = await repository.cheapest_prices(self.session, keys, region, currency)
        return [cheapest.get(key) for key in keys]
