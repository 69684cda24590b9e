"""Per-request loaders of what plans read: the versions serving an architecture, the SKUs with
prices, and their current offers (a page of models planned at once reads each of them once)."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit.db import AnyRow
from budgraph.kit.loaders import SessionLoader
from budgraph.plans import repository


class ServingVersionsByArchitectureLoader(SessionLoader[str, list[AnyRow]]):
    """The active engine versions serving each architecture (class name), on every device."""

    async def load_many_keys(self, keys: list[str]) -> list[list[AnyRow]]:
        grouped: dict[str, list[AnyRow]] = defaultdict(list)
        for row in await repository.serving_versions(self.session, keys):
            grouped[row.architecture__class_name].append(row)
        return [grouped.get(key, []) for key in keys]


class CurrentOffersByHardwareLoader(SessionLoader[int, list[AnyRow]]):
    """Each SKU's current offers in one currency, cheapest first."""

    def __init__(self, session: AsyncSession, currency: str) -> None:
        super().__init__(session)
        self.currency = currency

    async def load_many_keys(self, keys: list[int]) -> list[list[AnyRow]]:
        grouped: dict[int, list[AnyRow]] = defaultdict(list)
        for row in await repository.current_offers(self.session, keys, self.currency):
            grouped[row.hardware_id].append(row)
        return [grouped.get(key, []) for key in keys]


class PricedHardwareByCurrencyLoader(SessionLoader[str, list[AnyRow]]):
    """The SKUs with a price in each currency, by SKU."""

    async def load_many_keys(self, keys: list[str]) -> list[list[AnyRow]]:
        return [list(await repository.priced_hardware(self.session, key)) for key in keys]
