"""Per-request loaders of architectures, compatibility and parser rules."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.compatibility import repository
from budgraph.compatibility.rulebook import RuleBook, RuleBooks, current_book
from budgraph.engines.repository import VersionQuery, versions_of_architectures_statement
from budgraph.kit.db import AnyRow
from budgraph.kit.loaders import ChildPageLoader, ChildQuery, RowByIdLoader, SessionLoader


class ModelArchitectureByIdLoader(RowByIdLoader[db.ModelArchitecture]):
    table = db.ModelArchitecture


class ParserRuleByIdLoader(RowByIdLoader[db.ParserRule]):
    table = db.ParserRule


class CompatibilityEdgeByIdLoader(RowByIdLoader[db.CompatibilityEdge]):
    table = db.CompatibilityEdge


class ModelArchitectureByClassNameLoader(SessionLoader[str, AnyRow | None]):
    async def load_many_keys(self, keys: list[str]) -> list[AnyRow | None]:
        rows = await repository.architecture_rows_by_class_names(self.session, keys)
        by_name = {row.class_name: row for row in rows}
        return [by_name.get(key) for key in keys]


class ArchitecturePagesByEngineVersionLoader(ChildPageLoader[repository.ArchitectureQuery]):
    """A page of supported architectures per engine version."""

    def statement(self) -> ChildQuery:
        return repository.architectures_of_versions_statement(
            self.query
        ), db.CompatibilityEdge.engine_version_id


class EngineVersionPagesByArchitectureLoader(ChildPageLoader[VersionQuery]):
    """A page of engine versions supporting each architecture (by engine, highest version first)."""

    def statement(self) -> ChildQuery:
        return versions_of_architectures_statement(self.query), db.CompatibilityEdge.architecture_id


class RuleBookLoader(SessionLoader[int, RuleBook]):
    """The parser rule book of the request's snapshot, read once per request (load ``0``)."""

    def __init__(self, session: AsyncSession, books: RuleBooks) -> None:
        super().__init__(session)
        self.books = books

    async def load_many_keys(self, keys: list[int]) -> list[RuleBook]:
        book = await current_book(self.session, self.books)
        return [book for _ in keys]
