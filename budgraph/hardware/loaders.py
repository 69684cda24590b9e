"""Per-request loaders of hardware SKUs and their prices."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.hardware import repository
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader, SessionLoader


class HardwareByIdLoader(RowByIdLoader[db.Hardware]):
    table = db.Hardware


class HardwarePriceByIdLoader(RowByIdLoader[db.HardwarePrice]):
    table = db.HardwarePrice


# A price list: its filter, and its order (field, direction).
PriceList = tuple[repository.PriceQuery, tuple[str, str]]


class PricePagesByHardwareLoader(ChildPageLoader[PriceList]):
    """A page of prices per hardware SKU."""

    def statement(self) -> ChildQuery:
        return repository.prices_statement(*self.query), db.HardwarePrice.hardware_id


class PricePagesByProviderLoader(ChildPageLoader[PriceList]):
    """A page of hardware prices per provider."""

    def statement(self) -> ChildQuery:
        return repository.prices_statement(*self.query), db.HardwarePrice.provider_id


class CheapestPriceByHardwareLoader(SessionLoader[int, db.HardwarePrice | None]):
    """The cheapest current on-demand price per hardware id, in one region or any, in one currency."""

    def __init__(self, session: AsyncSession, region: str | None, currency: str) -> None:
        super().__init__(session)
        self.region = region
        self.currency = currency

    async def load_many_keys(self, keys: list[int]) -> list[db.HardwarePrice | None]:
        cheapest = await repository.cheapest_prices(self.session, keys, self.region, self.currency)
        return [cheapest.get(key) for key in keys]
