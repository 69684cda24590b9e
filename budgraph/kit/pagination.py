"""Relay cursor connections with a hard page cap and keyset cursors, computed in SQL.

A cursor holds the sort-key values of its row (see ``kit/cursors.py``), so the next page starts
after that row's position whatever was inserted or deleted meanwhile. A list's sort order is its
statement's ORDER BY, made total by the entity's primary key. A root list runs two statements (its
counts, and its page); nested lists (engine -> versions, ...) are paged for all parents at once
(``kit/child_pages.py``), so a page of parents costs the same statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit import keyset
from budgraph.kit.cursors import Cursor, CursorValue, check_fits, decode_cursor, encode_cursor
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.kit.ordering import SortKey, ordering_id, statement_sort_keys
from budgraph.settings import get_settings

T = TypeVar("T")
R = TypeVar("R")
S = TypeVar("S")

First = Annotated[
    int | None,
    strawberry.argument(description="Return the first n items after `after` (at most the page cap, 100)."),
]
After = Annotated[str | None, strawberry.argument(description="Return items after this cursor.")]
Last = Annotated[
    int | None,
    strawberry.argument(description="Return the last n items before `before` (at most the page cap, 100)."),
]
Before = Annotated[str | None, strawberry.argument(description="Return items before this cursor.")]


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="Whether items follow this page.")
    has_previous_page: bool = strawberry.field(description="Whether items precede this page.")
    start_cursor: str | None = strawberry.field(description="Cursor of the first item of this page.")
    end_cursor: str | None = strawberry.field(description="Cursor of the last item of this page.")


@strawberry.type(description="An item of a page, with its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(
        description="Opaque cursor of this item, for `after` / `before`: it marks this item's place in"
        " the list's order, so pages stay put when items are added or removed. Valid only for the same"
        " list in the same order."
    )
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list: its items, where it sits, and how long the list is.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(description="How many items the whole (filtered) list holds.")

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


@dataclass(frozen=True)
class Position:
    """A cursor a client gave, with the argument it came in (for error messages)."""

    cursor: Cursor
    text: str
    field: str


@dataclass(frozen=True)
class PageRequest:
    """Validated paging arguments; cursors are checked against the list's order when it is known."""

    first: int | None = None
    after: Position | None = None
    last: int | None = None
    before: Position | None = None

    @classmethod
    def parse(
        cls,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PageRequest:
        settings = get_settings()
        if first is not None and last is not None:
            raise BudgraphError("give either `first` or `last`, not both", field="first")
        for name, size in (("first", first), ("last", last)):
            if size is None:
                continue
            if size < 0:
                raise BudgraphError(f"`{name}` must not be negative", field=name)
            if size > settings.max_page_size:
                raise BudgraphError(
                    f"`{name}` is {size}; the page cap is {settings.max_page_size}",
                    code=ErrorCode.PAGE_SIZE_EXCEEDED,
                    field=name,
                )
        if first is None and last is None:
            first = settings.default_page_size
        return cls(
            first=first,
            after=Position(decode_cursor(after, "after"), after, "after") if after is not None else None,
            last=last,
            before=Position(decode_cursor(before, "before"), before, "before")
            if before is not None
            else None,
        )

    @property
    def backward(self) -> bool:
        return self.last is not None

    @property
    def size(self) -> int:
        size = self.last if self.last is not None else self.first
        assert size is not None
        return size

    def ordering(self, keys: Sequence[SortKey]) -> str:
        """The id of the order of ``keys``, after checking that the cursors given belong to it."""
        ordering = ordering_id(keys)
        for position in (self.after, self.before):
            if position is not None:
                check_fits(position.cursor, ordering, keys, position.text, position.field)
        return ordering

    def bounds(self, keys: Sequence[SortKey]) -> Bounds:
        """The cursors' conditions on ``keys`` (checked against the order with ``ordering`` first)."""
        return Bounds(
            after=keyset.after(keys, self.after.cursor.values) if self.after is not None else None,
            before=keyset.before(keys, self.before.cursor.values) if self.before is not None else None,
        )


@dataclass(frozen=True)
class Bounds:
    """Conditions of the rows after the ``after`` cursor and before the ``before`` cursor."""

    after: ColumnElement[bool] | None
    before: ColumnElement[bool] | None

    @property
    def window(self) -> ColumnElement[bool] | None:
        if self.after is None and self.before is None:
            return None
        return keyset.both(self.after, self.before)


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of a list: its rows with their cursors, and where it sits."""

    rows: list[R]
    cursors: list[str]
    total: int
    has_previous: bool
    has_next: bool

    def with_rows(self, rows: list[S]) -> Page[S]:
        """The same page with each row replaced (e.g. joined with what a loader found for it)."""
        return Page(rows, self.cursors, self.total, self.has_previous, self.has_next)


def page_of(
    rows: list[R], keys_of_rows: Sequence[Sequence[CursorValue]], ordering: str, window: keyset.Window
) -> Page[R]:
    if window.backward:
        rows, keys_of_rows = rows[::-1], keys_of_rows[::-1]
    return Page(
        rows=rows,
        cursors=[encode_cursor(ordering, values) for values in keys_of_rows],
        total=window.total,
        has_previous=window.has_previous,
        has_next=window.has_next,
    )


def build_connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    edges = [
        Edge(cursor=cursor, node=convert(row)) for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        total_count=page.total,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def _key_label(index: int) -> str:
    return f"keyset_{index}"


async def fetch_page(
    session: AsyncSession, stmt: Select[Any], page: PageRequest, *, whole_rows: bool = False
) -> Page[Any]:
    """One page of an ordered statement (its ORDER BY is the list's order).

    Rows are the first column's values (one entity per row), or whole rows with ``whole_rows``.
    """
    keys = statement_sort_keys(stmt)
    if not keys:
        raise TypeError("a list of whole rows needs an ORDER BY that is total (ends with a unique key)")
    ordering = page.ordering(keys)
    window = await _count(session, stmt, keys, page)
    if window.taken == 0:
        return page_of([], [], ordering, window)
    bounds = page.bounds(keys)
    direction = [key.reversed() if page.backward else key for key in keys]
    listed = _with_keys(stmt, keys)
    if bounds.window is not None:
        listed = listed.having(bounds.window) if stmt._group_by_clauses else listed.where(bounds.window)
    listed = listed.order_by(*(key.term() for key in direction)).limit(window.taken)
    result = (await session.execute(listed)).all()
    count = len(keys)
    rows = [_without_keys(row, count) if whole_rows else row[0] for row in result]
    return page_of(rows, [tuple(row[-count:]) for row in result], ordering, window)


def _with_keys(stmt: Select[Any], keys: Sequence[SortKey]) -> Select[Any]:
    """The statement, unordered, with its sort keys as extra (labelled) columns."""
    return stmt.order_by(None).add_columns(
        *(key.expression.label(_key_label(i)) for i, key in enumerate(keys))
    )


async def _count(
    session: AsyncSession, stmt: Select[Any], keys: Sequence[SortKey], page: PageRequest
) -> keyset.Window:
    """The list's total, the rows after the ``after`` cursor and between the cursors, in one statement."""
    inner = _with_keys(stmt, keys).subquery()
    inner_bounds = page.bounds([key.on(inner.c[_key_label(i)]) for i, key in enumerate(keys)])
    counts: list[ColumnElement[Any]] = [func.count()]
    if inner_bounds.after is not None:
        counts.append(func.count().filter(inner_bounds.after))
    if inner_bounds.window is not None:
        counts.append(func.count().filter(inner_bounds.window))
    found = (await session.execute(select(*counts).select_from(inner))).one()
    total = int(found[0])
    after_count = int(found[1]) if inner_bounds.after is not None else total
    inside = int(found[-1]) if inner_bounds.window is not None else total
    return keyset.Window(
        total=total,
        skipped=total - after_count,
        inside=inside,
        taken=min(page.size, inside),
        backward=page.backward,
    )


class TrimmedRow(tuple[Any, ...]):
    """A whole row without the sort-key columns added for its cursor: it unpacks as the row did,
    and reads named columns from it."""

    _row: Any

    def __new__(cls, row: Any, count: int) -> TrimmedRow:
        trimmed = super().__new__(cls, tuple(row)[:-count])
        trimmed._row = row
        return trimmed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def _without_keys(row: Any, count: int) -> TrimmedRow:
    return TrimmedRow(row, count)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    convert: Callable[[Any], T],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[T]:
    """One page of an ordered statement as a connection (the common body of a root list field)."""
    page = await fetch_page(session, stmt, PageRequest.parse(first, after, last, before))
    return build_connection(page, convert)
