"""Relay cursor connections with a hard page cap and keyset cursors, computed in SQL.

A cursor holds the sort-key values of its row (see ``kit/cursors.py``), so the next page starts
after that row's position whatever was inserted or deleted meanwhile. A list's sort order is its
statement's ORDER BY, made total by the entity's primary key. A root list runs one statement (its
page, one row longer than asked, which tells whether more follow), and counts its rows only when
``totalCount`` is selected; nested lists (engine -> versions, ...) are paged for all parents at once
(``kit/child_pages.py``), so a page of parents costs the same statements whatever its size.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.kit import keyset
from budgraph.kit.cursors import Cursor, CursorValue, check_fits, decode_cursor, encode_cursor
from budgraph.kit.db import plain_rows
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


# How many items a whole (filtered) list holds: asked only when a client selects ``totalCount``.
TotalCount = Callable[[], Awaitable[int]]


@strawberry.type(description="A page of a list: its items, where it sits, and how long the list is.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    count: strawberry.Private[TotalCount]

    @strawberry.field(description="How many items the whole (filtered) list holds.")
    async def total_count(self) -> int:
        # Counted only when selected: a count reads every row of the list, a page only its own.
        return await self.count()

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


@dataclass(frozen=True)
class Scan:
    """How a page is read without counting: from the cursor on its side (``near``), in the page's
    direction, one row more than the page holds; the other cursor (``far``) only marks where the
    page stops. Whether items precede or follow the page is then known from that extra row, or from
    whether any row lies on the far side of a cursor (``previous_if`` / ``next_if``: conditions
    that some row of the list satisfies exactly when the flag is true).
    """

    direction: list[SortKey]
    near: ColumnElement[bool] | None
    far: ColumnElement[bool] | None
    previous_if: ColumnElement[bool] | None
    next_if: ColumnElement[bool] | None
    limit: int
    backward: bool

    @classmethod
    def of(cls, keys: Sequence[SortKey], page: PageRequest, bounds: Bounds) -> Scan:
        """Relay's page info, as counts defined it: forward, items precede the page when a row lies
        at or before ``after``; backward, they follow it when a row lies after ``after`` and at or
        after ``before``, and precede it when more rows lie before ``before`` or at or before ``after``."""
        after, before = bounds.after, bounds.before
        previous_if = keyset.not_true(after) if after is not None else None
        next_if = None
        if page.backward and before is not None:
            next_if = keyset.both(after, keyset.not_true(before))
        return cls(
            direction=[key.reversed() for key in keys] if page.backward else list(keys),
            near=before if page.backward else after,
            far=after if page.backward else before,
            previous_if=previous_if,
            next_if=next_if,
            limit=page.size + 1,
            backward=page.backward,
        )

    def flags(self) -> list[tuple[str, ColumnElement[bool]]]:
        """The existence conditions to ask, by label."""
        given = (("previous_exists", self.previous_if), ("next_exists", self.next_if))
        return [(label, condition) for label, condition in given if condition is not None]

    def cut(self, rows: Sequence[Any], in_window: Sequence[bool]) -> tuple[int, bool]:
        """How many of the rows read (in the page's direction) the page holds, and whether more
        rows lie beyond the page in that direction."""
        taken = 0
        size = self.limit - 1
        while taken < min(size, len(rows)) and in_window[taken]:
            taken += 1
        return taken, len(rows) > taken

    def page_info(self, more: bool, flags: dict[str, bool]) -> tuple[bool, bool]:
        """(has_previous, has_next) from the extra row and the existence flags."""
        has_previous = flags.get("previous_exists", False) or (self.backward and more)
        has_next = flags.get("next_exists", False) or (not self.backward and more)
        return has_previous, has_next


@dataclass(frozen=True)
class Page(Generic[R]):
    """One page of a list: its rows with their cursors, where it sits, and how to count the list."""

    rows: list[R]
    cursors: list[str]
    has_previous: bool
    has_next: bool
    count: TotalCount

    def with_rows(self, rows: list[S]) -> Page[S]:
        """The same page with each row replaced (e.g. joined with what a loader found for it)."""
        return Page(rows, self.cursors, self.has_previous, self.has_next, self.count)


def page_of(
    rows: list[R],
    keys_of_rows: Sequence[Sequence[CursorValue]],
    ordering: str,
    scan: Scan,
    flags: tuple[bool, bool],
    count: TotalCount,
) -> Page[R]:
    """The page of ``rows`` read in the scan's direction (reversed back for a backward page)."""
    if scan.backward:
        rows, keys_of_rows = rows[::-1], keys_of_rows[::-1]
    return Page(
        rows=rows,
        cursors=[encode_cursor(ordering, values) for values in keys_of_rows],
        has_previous=flags[0],
        has_next=flags[1],
        count=count,
    )


def build_connection(page: Page[R], convert: Callable[[R], T]) -> Connection[T]:
    edges = [
        Edge(cursor=cursor, node=convert(row)) for row, cursor in zip(page.rows, page.cursors, strict=True)
    ]
    return Connection(
        edges=edges,
        count=page.count,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


def key_label(index: int) -> str:
    return f"keyset_{index}"


IN_WINDOW = "in_window"


def restricted(stmt: Select[Any], condition: ColumnElement[bool]) -> Select[Any]:
    """``stmt`` keeping the rows (or groups) that satisfy ``condition``."""
    return stmt.having(condition) if stmt._group_by_clauses else stmt.where(condition)


def scanned(stmt: Select[Any], keys: Sequence[SortKey], scan: Scan) -> Select[Any]:
    """The statement read as ``scan`` says: its sort keys and ``in_window`` as extra columns, from
    the near cursor on, in the page's direction, ``scan.limit`` rows."""
    listed = stmt.order_by(None).add_columns(
        *(key.expression.label(key_label(i)) for i, key in enumerate(keys)),
        (scan.far if scan.far is not None else true()).label(IN_WINDOW),
    )
    if scan.near is not None:
        listed = restricted(listed, scan.near)
    return listed.order_by(*(key.term() for key in scan.direction)).limit(scan.limit)


async def fetch_page(
    session: AsyncSession,
    stmt: Select[Any],
    page: PageRequest,
    *,
    whole_rows: bool = False,
    total: Select[Any] | None = None,
) -> Page[Any]:
    """One page of an ordered statement (its ORDER BY is the list's order), in one statement.

    Rows are plain rows of the listed entity's columns (read by attribute, as ``from_row`` does), or
    with ``whole_rows`` the statement's own rows (ORM objects included). ``total`` reads how many
    rows the whole list holds (a stored count, see ``registry/row_counts.py``) instead of counting them.
    """
    keys = statement_sort_keys(stmt)
    if not keys:
        raise TypeError("a list of whole rows needs an ORDER BY that is total (ends with a unique key)")
    ordering = page.ordering(keys)
    scan = Scan.of(keys, page, page.bounds(keys))
    flag_columns = [
        restricted(stmt.order_by(None), condition).exists().label(label) for label, condition in scan.flags()
    ]
    listing = scanned(stmt, keys, scan).add_columns(*flag_columns)
    # One entity per row: read as plain rows (its columns), no ORM objects; whole rows as they are.
    result = (await session.execute(listing)).all() if whole_rows else await plain_rows(session, listing)
    if result:
        flags = {label: bool(getattr(result[0], label)) for label, _ in scan.flags()}
    elif flag_columns:  # no row to carry them
        found = (await session.execute(select(*flag_columns))).one()
        flags = {label: bool(getattr(found, label)) for label, _ in scan.flags()}
    else:
        flags = {}
    taken, more = scan.cut(result, [getattr(row, IN_WINDOW) for row in result])
    extra = len(keys) + 1 + len(flag_columns)  # sort keys, in_window, flags
    listed = result[:taken]
    rows = [TrimmedRow(row, extra) if whole_rows else row for row in listed]
    values = [tuple(row)[-extra:][: len(keys)] for row in listed]
    return page_of(rows, values, ordering, scan, scan.page_info(more, flags), counter(session, stmt, total))


def counter(session: AsyncSession, stmt: Select[Any], total: Select[Any] | None = None) -> TotalCount:
    """Counts the rows of ``stmt`` when called (or reads ``total``, the list's stored count)."""

    async def count() -> int:
        counted = (
            total if total is not None else select(func.count()).select_from(stmt.order_by(None).subquery())
        )
        return int((await session.execute(counted)).scalar_one())

    return count


def stored_count(session: AsyncSession, statement: Select[int]) -> TotalCount:
    """A list's size read by ``statement`` (a stored count) when called, instead of counted."""

    async def count() -> int:
        return int((await session.execute(statement)).scalar_one())

    return count


class TrimmedRow(tuple[Any, ...]):
    """A whole row without the columns added to read its page (sort keys, flags): it unpacks as
    the row did, and reads named columns from it."""

    _row: Any

    def __new__(cls, row: Any, count: int) -> TrimmedRow:
        trimmed = super().__new__(cls, tuple(row)[:-count])
        trimmed._row = row
        return trimmed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    convert: Callable[[Any], T],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    total: Select[Any] | None = None,
) -> Connection[T]:
    """One page of an ordered statement as a connection (the common body of a root list field);
    ``total`` reads the list's stored count, if it has one."""
    page = await fetch_page(session, stmt, PageRequest.parse(first, after, last, before), total=total)
    return build_connection(page, convert)
