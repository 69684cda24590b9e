"""Per-request loaders of engines and engine versions."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement

from budgraph import db
from budgraph.engines import repository
from budgraph.kit.db import AnyRow
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader, SessionLoader
from budgraph.kit.ordering import direction_of

VERSION_ORDER_COLUMNS = {
    "version": db.EngineVersion.version_key,
    "release_date": db.EngineVersion.release_date,
    "created_at": db.EngineVersion.created_at,
}


def version_order(field: str, direction: str) -> list[ColumnElement[Any]]:
    tie = db.EngineVersion.id.desc() if direction == "desc" else db.EngineVersion.id.asc()
    return [
        direction_of(VERSION_ORDER_COLUMNS[field], direction),
        db.EngineVersion.device_architecture.asc(),
        tie,
    ]


class EngineByIdLoader(RowByIdLoader[db.Engine]):
    table = db.Engine


class EngineVersionByIdLoader(RowByIdLoader[db.EngineVersion]):
    table = db.EngineVersion


class VersionPagesByEngineLoader(ChildPageLoader[db.EngineVersion]):
    """A page of versions per engine. Args: page, VersionQuery, (order field, direction)."""

    entity = db.EngineVersion

    def statement(self) -> ChildQuery:
        query, order = self.args[1], self.args[2]
        assert isinstance(query, repository.VersionQuery)
        assert isinstance(order, tuple)
        field, direction = order
        return (
            repository.versions_statement(query),
            db.EngineVersion.engine_id,
            version_order(field, direction),
        )


class LatestVersionByEngineLoader(SessionLoader[int, AnyRow | None]):
    """The latest active version per engine id (see ``repository.latest_versions``).

    Args: device architecture or None, whether pre-releases count.
    """

    async def load_many_keys(self, keys: list[int]) -> list[AnyRow | None]:
        device, include_prereleases = self.args
        assert device is None or isinstance(device, str)
        assert isinstance(include_prereleases, bool)
        latest = await repository.latest_versions(self.session, keys, device, include_prereleases)
        return [latest.get(key) for key in keys]
