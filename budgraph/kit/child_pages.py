"""Nested connections: one page of children for every parent of a batch, in one statement.

The parents' keys are unnested and each is joined LATERALLY to its own page: the children of that
parent from the near cursor on, in the page's direction, one more than the page holds (see
``pagination.Scan``), so an index on (parent key, sort keys) reads each page directly instead of
numbering every child of every parent. Counts are a separate statement, run only when a client
selects ``totalCount`` (one for the whole batch, through ``ChildCounts``).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import BigInteger, ColumnElement, Select, bindparam, column, func, inspect, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from budgraph.kit.db import AnyRow, plain_rows
from budgraph.kit.ordering import listed_entity, statement_sort_keys
from budgraph.kit.pagination import (
    IN_WINDOW,
    Page,
    PageRequest,
    Scan,
    TotalCount,
    key_label,
    page_of,
    scanned,
)

K = TypeVar("K", bound=Hashable)
ParentKey = ColumnElement[Any] | InstrumentedAttribute[Any]
PARENT = "parent_key"
POSITION = "position"


async def fetch_child_pages(
    session: AsyncSession,
    stmt: Select[Any],
    parent_key: ParentKey,
    keys: Sequence[K],
    page: PageRequest,
    counts: DataLoader[Any, int],
) -> list[Page[AnyRow]]:
    """One page of children for each parent key, in key order, from the children's ordered
    statement; ``counts`` (a loader of counts by parent key) answers ``totalCount`` when asked."""
    sort = statement_sort_keys(stmt)
    entity = listed_entity(stmt)
    if entity is None:
        raise TypeError("a nested list lists one entity per row, ordered by a total ORDER BY")
    ordering = page.ordering(sort)
    scan = Scan.of(sort, page, page.bounds(sort))
    unique = list(dict.fromkeys(keys))
    parents = (
        func.unnest(bindparam("parent_keys", unique, type_=ARRAY(BigInteger)))
        .table_valued(column("key", BigInteger))
        .render_derived(name="parent")
    )
    of_parent = stmt.where(parent_key == parents.c.key)
    # The row's place in its page: the sort of the result (parents x (n + 1) rows) is not stable.
    position = func.row_number().over(order_by=[key.term() for key in scan.direction]).label(POSITION)
    inner = scanned(of_parent, sort, scan).add_columns(position).lateral("page")
    mapper = inspect(entity).mapper
    child = [inner.c[column.key] for column in mapper.columns]
    primary_key = mapper.primary_key[0].key
    flags = [
        of_parent.order_by(None).where(condition).exists().label(label) for label, condition in scan.flags()
    ]
    keyset_columns = [inner.c[key_label(i)] for i in range(len(sort))]
    result = await plain_rows(
        session,
        select(parents.c.key.label(PARENT), *flags, *child, inner.c[IN_WINDOW], *keyset_columns)
        .select_from(parents.outerjoin(inner, true()))
        .order_by(parents.c.key, inner.c[POSITION]),
    )
    grouped: dict[Any, tuple[list[Any], dict[str, bool]]] = {key: ([], {}) for key in unique}
    for row in result:
        found, flag_values = grouped[row[0]]
        flag_values.update({label: bool(getattr(row, label)) for label, _ in scan.flags()})
        if getattr(row, primary_key) is not None:  # None: no child on this side of the cursor
            found.append(row)
    pages: dict[Any, Page[AnyRow]] = {}
    width = len(sort)
    for key, (found, flag_values) in grouped.items():
        taken, more = scan.cut(found, [row[-width - 1] for row in found])
        listed = found[:taken]
        pages[key] = page_of(
            list(listed),  # plain rows: the child's columns by name (and the page's own columns)
            [tuple(row[-width:]) for row in listed],
            ordering,
            scan,
            scan.page_info(more, flag_values),
            _count_of(counts, key),
        )
    return [pages[key] for key in keys]


def _count_of(counts: DataLoader[Any, int], key: Any) -> TotalCount:
    async def count() -> int:
        return await counts.load(key)

    return count


async def count_children(
    session: AsyncSession, stmt: Select[Any], parent_key: ParentKey, keys: Sequence[Any]
) -> list[int]:
    """How many children each parent key has, in key order (one statement for the batch)."""
    found = await session.execute(
        stmt.with_only_columns(parent_key, func.count())
        .where(parent_key.in_(list(dict.fromkeys(keys))))
        .group_by(parent_key)
        .order_by(None)
    )
    by_parent = {row[0]: int(row[1]) for row in found.all()}
    return [by_parent.get(key, 0) for key in keys]
