"""Nested connections: one page of children for every parent of a batch, in one statement.

Window functions partitioned by the parent key do per parent what a root list does with counts:
the total, the rows at or before the ``after`` cursor, and a row number inside the window between
the two cursors, so the page of each parent is its first (or last) n rows of that window.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from budgraph.kit import keyset
from budgraph.kit.ordering import SortKey, sort_keys, with_primary_key
from budgraph.kit.pagination import Page, PageRequest, page_of

R = TypeVar("R")
K = TypeVar("K", bound=Hashable)
ParentKey = ColumnElement[Any] | InstrumentedAttribute[Any]


async def fetch_child_pages(
    session: AsyncSession,
    stmt: Select[Any],
    entity: type[R],
    parent_key: ParentKey,
    order_by: Sequence[ColumnElement[Any]],
    keys: Sequence[K],
    page: PageRequest,
) -> list[Page[R]]:
    """One page of children for each parent key, in key order."""
    sort = with_primary_key(sort_keys(order_by), entity)
    ordering = page.ordering(sort)
    bounds = page.bounds(sort)
    pages: dict[Any, Page[R]] = {}
    if page.size > 0:
        pages = await _pages(session, stmt, entity, parent_key, sort, keys, page, ordering)
    missing = [key for key in keys if key not in pages]
    if missing:
        # Parents without a row in their page still need their counts for totalCount and pageInfo.
        counts: list[Any] = [parent_key, func.count()]
        if bounds.after is not None:
            counts.append(func.count().filter(bounds.after))
        if bounds.window is not None:
            counts.append(func.count().filter(bounds.window))
        found = await session.execute(
            stmt.with_only_columns(*counts).where(parent_key.in_(missing)).group_by(parent_key).order_by(None)
        )
        by_parent = {row[0]: tuple(row[1:]) for row in found.all()}
        for key in missing:
            total, *rest = by_parent.get(key, (0, 0, 0))
            after_count = rest[0] if bounds.after is not None else total
            inside = rest[-1] if bounds.window is not None else total
            window = keyset.Window(total, total - after_count, inside, 0, page.backward)
            pages[key] = page_of([], [], ordering, window)
    return [pages[key] for key in keys]


async def _pages(
    session: AsyncSession,
    stmt: Select[Any],
    entity: type[R],
    parent_key: ParentKey,
    sort: Sequence[SortKey],
    keys: Sequence[Any],
    page: PageRequest,
    ordering: str,
) -> dict[Any, Page[R]]:
    bounds = page.bounds(sort)
    direction = [key.reversed() if page.backward else key for key in sort]
    partition: list[Any] = [parent_key]
    columns: list[ColumnElement[Any]] = [
        parent_key.label("parent_key"),
        *(key.expression.label(f"keyset_{i}") for i, key in enumerate(sort)),
        func.count().over(partition_by=parent_key).label("total"),
    ]
    if bounds.after is not None:
        columns.append(func.count().filter(bounds.after).over(partition_by=parent_key).label("after_count"))
    if bounds.window is not None:
        columns.append(bounds.window.label("in_window"))
        partition.append(bounds.window)
    columns += [
        func.count().over(partition_by=partition).label("inside"),
        func.row_number()
        .over(partition_by=partition, order_by=[key.term() for key in direction])
        .label("position"),
    ]
    inner = stmt.where(parent_key.in_(list(set(keys)))).add_columns(*columns).subquery()
    child = aliased(entity, inner)
    conditions = [inner.c.position <= page.size]
    if bounds.window is not None:
        conditions.append(inner.c.in_window)
    result = await session.execute(
        select(
            child,
            inner.c.parent_key,
            inner.c.total,
            inner.c.after_count if bounds.after is not None else inner.c.total,
            inner.c.inside,
            *(inner.c[f"keyset_{i}"] for i in range(len(sort))),
        )
        .where(*conditions)
        .order_by(inner.c.parent_key, inner.c.position)
    )
    grouped: dict[Any, tuple[list[R], list[tuple[Any, ...]], tuple[int, int, int]]] = {}
    for row in result.all():
        child_row, key, total, after_count, inside, *values = tuple(row)
        rows, values_of_rows, _ = grouped.setdefault(key, ([], [], (total, after_count, inside)))
        rows.append(child_row)
        values_of_rows.append(tuple(values))
    pages: dict[Any, Page[R]] = {}
    for key, (rows, values_of_rows, (total, after_count, inside)) in grouped.items():
        window = keyset.Window(total, total - after_count, inside, len(rows), page.backward)
        pages[key] = page_of(rows, values_of_rows, ordering, window)
    return pages
