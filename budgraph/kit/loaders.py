"""Per-request dataloaders: created on first use, cached on the request context."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit.child_pages import ParentKey, count_children, fetch_child_pages
from budgraph.kit.db import AnyRow, plain_rows
from budgraph.kit.pagination import Page, PageRequest

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")
# The children query, the column holding the parent key, and the order of children within a parent.
ChildQuery = tuple[Select[Any], ParentKey, list[ColumnElement[Any]]]


class SessionLoader(DataLoader[K, V]):
    """A dataloader bound to the request's session; subclasses implement ``load_many_keys``."""

    def __init__(self, session: AsyncSession, *args: Hashable) -> None:
        super().__init__()
        self.session = session
        self.args = args

    async def batch_load_fn(self, keys: Sequence[K]) -> list[V]:
        return await self.load_many_keys(list(keys))

    async def load_many_keys(self, keys: list[K]) -> list[V]:
        raise NotImplementedError


class RowByIdLoader(SessionLoader[int, AnyRow | None], Generic[R]):
    """Rows of one table by primary key (plain rows: reads build no ORM objects), ``None`` for misses."""

    table: type[R]

    async def load_many_keys(self, keys: list[int]) -> list[AnyRow | None]:
        column: Any = self.table.id  # type: ignore[attr-defined]
        rows = await plain_rows(self.session, select(self.table).where(column.in_(keys)))
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class ChildCountLoader(DataLoader[int, int]):
    """How many children each parent id has (``totalCount`` of a nested list), for a batch at once."""

    def __init__(self, session: AsyncSession, stmt: Select[Any], parent_key: ParentKey) -> None:
        super().__init__()
        self.session = session
        self.stmt = stmt
        self.parent_key = parent_key

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        return await count_children(self.session, self.stmt, self.parent_key, keys)


class ChildPageLoader(SessionLoader[int, Page[R]], Generic[R]):
    """One page of children per parent id. ``args[0]`` is the ``PageRequest``."""

    entity: type[R]
    _counts: ChildCountLoader | None = None

    def statement(self) -> ChildQuery:
        """The children query, the parent-key column, and the order of children."""
        raise NotImplementedError

    async def load_many_keys(self, keys: list[int]) -> list[Page[R]]:
        page = self.args[0]
        assert isinstance(page, PageRequest)
        stmt, parent_key, order_by = self.statement()
        if self._counts is None:
            self._counts = ChildCountLoader(self.session, stmt, parent_key)
        return await fetch_child_pages(
            self.session, stmt, self.entity, parent_key, order_by, keys, page, self._counts
        )


L = TypeVar("L", bound=SessionLoader[Any, Any])


class LoaderCache:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._loaders: dict[tuple[Hashable, ...], SessionLoader[Any, Any]] = {}

    def get(self, loader_class: type[L], *args: Hashable) -> L:
        key = (loader_class, *args)
        loader = self._loaders.get(key)
        if loader is None:
            loader = self._loaders[key] = loader_class(self._session, *args)
        assert isinstance(loader, loader_class)
        return loader
