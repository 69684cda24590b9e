"""Relay cursor connections with a hard page cap, computed in SQL.

Cursors are opaque offsets into the ordered list. Top-level lists run two statements (count and
page); nested lists (engine -> versions, ...) are paged for all parents at once with window
functions, so a page of parents costs the same number of statements whatever its size.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import ColumnElement

from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.settings import get_settings

T = TypeVar("T")
ParentKey = ColumnElement[Any] | InstrumentedAttribute[Any]
R = TypeVar("R")
K = TypeVar("K", bound=Hashable)

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
    cursor: str = strawberry.field(description="Opaque cursor of this item, for `after` / `before`.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list: its items, where it sits, and how long the list is.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items of this page, with cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")
    total_count: int = strawberry.field(description="How many items the whole (filtered) list holds.")

    @strawberry.field(description="The items of this page, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(index: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{index}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        kind, _, raw = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
        index = int(raw) if len(raw) <= 20 else -1
    except (binascii.Error, UnicodeDecodeError, ValueError):
        index, kind = -1, ""
    if kind != "offset" or not 0 <= index < 2**31:
        raise BudgraphError(f"{cursor!r} is not a valid cursor", code=ErrorCode.INVALID_CURSOR)
    return index


@dataclass(frozen=True)
class PageRequest:
    """Validated paging arguments."""

    first: int | None = None
    after: int | None = None
    last: int | None = None
    before: int | None = None

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
            after=decode_cursor(after) if after is not None else None,
            last=last,
            before=decode_cursor(before) if before is not None else None,
        )

    def bounds(self, total: int) -> tuple[int, int]:
        start = self.after + 1 if self.after is not None else 0
        end = min(self.before, total) if self.before is not None else total
        start = min(start, end)
        if self.first is not None:
            end = min(end, start + self.first)
        if self.last is not None:
            start = max(start, end - self.last)
        return start, end


def build_connection(rows: Sequence[R], start: int, total: int, convert: Callable[[R], T]) -> Connection[T]:
    edges = [Edge(cursor=encode_cursor(start + i), node=convert(row)) for i, row in enumerate(rows)]
    end = start + len(rows)
    return Connection(
        edges=edges,
        total_count=total,
        page_info=PageInfo(
            has_next_page=end < total,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


async def fetch_page(
    session: AsyncSession, stmt: Select[Any], page: PageRequest, *, whole_rows: bool = False
) -> tuple[list[Any], int, int]:
    """Rows of one page of an ordered statement, the page's start offset, and the total count.

    Rows are the first column's values (one entity per row), or whole rows with ``whole_rows``.
    """
    total = await session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    start, end = page.bounds(total)
    if end <= start:
        return [], start, total
    window = stmt.offset(start).limit(end - start)
    result = (await session.execute(window)).all() if whole_rows else (await session.scalars(window)).all()
    return list(result), start, total


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
    rows, start, total = await fetch_page(session, stmt, PageRequest.parse(first, after, last, before))
    return build_connection(rows, start, total, convert)


@dataclass(frozen=True)
class ChildPage(Generic[R]):
    rows: list[R]
    start: int
    total: int


async def fetch_child_pages(
    session: AsyncSession,
    stmt: Select[Any],
    entity: type[R],
    parent_key: ParentKey,
    order_by: Sequence[ColumnElement[Any]],
    keys: Sequence[K],
    page: PageRequest,
) -> list[ChildPage[R]]:
    """One page of children for each parent key, in key order, in one statement."""
    inner = (
        stmt.where(parent_key.in_(list(set(keys))))
        .add_columns(
            parent_key.label("parent_key"),
            func.row_number().over(partition_by=parent_key, order_by=list(order_by)).label("position"),
            func.count().over(partition_by=parent_key).label("total"),
        )
        .subquery()
    )
    child = aliased(entity, inner)
    position, total = inner.c.position - 1, inner.c.total
    start = position >= (page.after + 1 if page.after is not None else 0)
    end_bound = func.least(page.before, total) if page.before is not None else total
    conditions = [start, position < end_bound]
    if page.first is not None:
        first_start = (page.after + 1) if page.after is not None else 0
        conditions.append(position < first_start + page.first)
    if page.last is not None:
        conditions.append(position >= end_bound - page.last)
    result = await session.execute(
        select(child, inner.c.parent_key, position.label("index"), total)
        .where(*conditions)
        .order_by(inner.c.parent_key, inner.c.position)
    )
    found: dict[Any, ChildPage[R]] = {}
    totals: dict[Any, int] = {}
    for row, key, index, count in result.all():
        found.setdefault(key, ChildPage(rows=[], start=index, total=count)).rows.append(row)
    missing_totals = [key for key in keys if key not in found]
    if missing_totals:
        # Parents whose page is empty still need their total (non-zero if the page was past the end).
        count_rows = await session.execute(
            stmt.with_only_columns(parent_key, func.count())
            .where(parent_key.in_(missing_totals))
            .group_by(parent_key)
            .order_by(None)
        )
        totals = {key: count for key, count in count_rows.all()}
    pages: list[ChildPage[R]] = []
    for key in keys:
        if key in found:
            pages.append(found[key])
        else:
            count = totals.get(key, 0)
            pages.append(ChildPage(rows=[], start=page.bounds(count)[0], total=count))
    return pages
