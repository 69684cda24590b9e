"""Per-request loaders of engines and engine versions."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.engines import repository
from budgraph.kit.db import AnyRow
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader, SessionLoader


class EngineByIdLoader(RowByIdLoader[db.Engine]):
    table = db.Engine


class EngineVersionByIdLoader(RowByIdLoader[db.EngineVersion]):
    table = db.EngineVersion


class VersionPagesByEngineLoader(ChildPageLoader[repository.VersionQuery]):
    """A page of versions per engine."""

    def statement(self) -> ChildQuery:
        return repository.versions_of_engines_statement(self.query), db.EngineVersion.engine_id


class LatestVersionByEngineLoader(SessionLoader[int, AnyRow | None]):
    """The latest active version per engine id (see ``repository.latest_versions``), on one device
    or any, pre-releases counting or not."""

    def __init__(self, session: AsyncSession, device: str | None, include_prereleases: bool) -> None:
        super().__init__(session)
        self.device = device
        self.include_prereleases = include_prereleases

    async def load_many_keys(self, keys: list[int]) -> list[AnyRow | None]:
        latest = await repository.latest_versions(self.session, keys, self.device, self.include_prereleases)
        return [latest.get(key) for key in keys]
