"""Per-request loaders of upstream releases and quantization support."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from budgraph import db
from budgraph.kit.db import AnyRow
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader, SessionLoader
from budgraph.releases import repository


class UpstreamReleaseByIdLoader(RowByIdLoader[db.UpstreamRelease]):
    table = db.UpstreamRelease


class UpstreamArchitectureByIdLoader(RowByIdLoader[db.UpstreamArchitecture]):
    table = db.UpstreamArchitecture


class UpstreamDroppedArchitectureByIdLoader(RowByIdLoader[db.UpstreamDroppedArchitecture]):
    table = db.UpstreamDroppedArchitecture


class UpstreamQuantizationByIdLoader(RowByIdLoader[db.UpstreamQuantization]):
    table = db.UpstreamQuantization


class QuantizationSupportByIdLoader(RowByIdLoader[db.QuantizationSupport]):
    table = db.QuantizationSupport


def _grouped(rows: Sequence[AnyRow], parent: str, keys: list[int]) -> list[list[AnyRow]]:
    found: dict[int, list[AnyRow]] = defaultdict(list)
    for row in rows:
        found[getattr(row, parent)].append(row)
    return [found.get(key, []) for key in keys]


class DroppedArchitecturesByReleaseLoader(SessionLoader[int, list[AnyRow]]):
    async def load_many_keys(self, keys: list[int]) -> list[list[AnyRow]]:
        return _grouped(await repository.dropped_of_releases(self.session, keys), "release_id", keys)


class UpstreamQuantizationByReleaseLoader(SessionLoader[int, list[AnyRow]]):
    async def load_many_keys(self, keys: list[int]) -> list[list[AnyRow]]:
        return _grouped(await repository.quantization_of_releases(self.session, keys), "release_id", keys)


class EngineVersionsByReleaseLoader(SessionLoader[int, list[AnyRow]]):
    async def load_many_keys(self, keys: list[int]) -> list[list[AnyRow]]:
        rows = await repository.versions_of_releases(self.session, keys)
        return _grouped(rows, "upstream_release_id", keys)


class QuantizationSupportByEngineVersionLoader(SessionLoader[int, list[AnyRow]]):
    async def load_many_keys(self, keys: list[int]) -> list[list[AnyRow]]:
        rows = await repository.support_of_versions(self.session, keys)
        return _grouped(rows, "engine_version_id", keys)


class ArchitecturePagesByReleaseLoader(ChildPageLoader[None]):
    """A page of a release's architectures per release (by class name)."""

    def statement(self) -> ChildQuery:
        return repository.architectures_of_releases_statement(), db.UpstreamArchitecture.release_id


class QuantizationSupportPagesByHardwareLoader(ChildPageLoader[None]):
    """A page of the quantization rows each hardware SKU can run."""

    def statement(self) -> ChildQuery:
        return repository.support_of_hardware_statement(), db.Hardware.id


class QuantizationMethodByModelLoader(SessionLoader[str, str | None]):
    """The quantization method of registered models by uri (a request names one or two)."""

    async def load_many_keys(self, keys: list[str]) -> list[str | None]:
        found = {uri: await repository.quantization_method_of_model(self.session, uri) for uri in set(keys)}
        return [found[key] for key in keys]
