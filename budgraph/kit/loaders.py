"""Per-request dataloaders: created on first use, cached on the request context."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit.child_pages import ParentKey, count_children, fetch_child_pages
from budgraph.kit.db import AnyRow, plain_rows
from budgraph.kit.pagination import Connection, Page, PageRequest, build_connection

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")
T = TypeVar("T")
Q = TypeVar("Q", bound=Hashable)
# The children's statement, ordered as the list is (its repository owns it), and the column that
# holds each child's parent key.
ChildQuery = tuple[Select[Any], ParentKey]


class SessionLoader(DataLoader[K, V]):
    """A dataloader bound to the request's session; subclasses implement ``load_many_keys`` and take
    what else they need as typed arguments of their own ``__init__``."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session

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


class ChildPageLoader(SessionLoader[int, Page[AnyRow]], Generic[Q]):
    """One page of children per parent id, for one page request and one list query (the filter and
    order a domain's repository turns into SQL)."""

    _counts: ChildCountLoader | None = None

    def __init__(self, session: AsyncSession, page: PageRequest, query: Q) -> None:
        super().__init__(session)
        self.page = page
        self.query = query

    def statement(self) -> ChildQuery:
        """The children's ordered statement (from the repository) and the parent-key column."""
        raise NotImplementedError

    async def load_many_keys(self, keys: list[int]) -> list[Page[AnyRow]]:
        stmt, parent_key = self.statement()
        if self._counts is None:
            self._counts = ChildCountLoader(self.session, stmt, parent_key)
        return await fetch_child_pages(self.session, stmt, parent_key, keys, self.page, self._counts)


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


async def nested_connection(
    loaders: LoaderCache,
    loader: type[ChildPageLoader[Q]],
    query: Q,
    parent: int,
    convert: Callable[[AnyRow], T],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[T]:
    """The whole body of a nested list field: its page of ``parent``'s children, read for every
    parent of the batch at once by ``loader``, as a connection of ``convert``-ed rows."""
    page = PageRequest.parse(first, after, last, before)
    return build_connection(await loaders.get(loader, page, query).load(parent), convert)
