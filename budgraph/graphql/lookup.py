"""Finding the one row a field or a mutation is about, with typed errors for bad or missing ids."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from budgraph.graphql.context import Info
from budgraph.kit.db import AnyRow
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.ids import expect_global_id
from budgraph.kit.loaders import RowByIdLoader

R = TypeVar("R")


def _readable(type_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", " ", type_name).lower()


async def row_to_change(info: Info, table: type[R], id: str, field: str = "id") -> R:
    """The row a mutation changes, locked until commit (concurrent changes of one row queue up, so
    none is lost and each change's values before are the ones it replaced). Its GraphQL type is
    named like its table class."""
    type_name = table.__name__
    row: R | None = await info.context.session.get(
        table, expect_global_id(id, type_name), with_for_update=True, populate_existing=True
    )
    if row is None:
        raise NotFound(f"no {_readable(type_name)} with id {id!r}", field=field)
    return row


async def one_by_id_or_key(
    info: Info,
    loader: type[RowByIdLoader[Any]],
    id: str | None,
    key_name: str,
    key: str | None,
    by_key: Callable[[str], Awaitable[R | None]],
) -> R | AnyRow | None:
    """The row named by a global id or by its natural key (exactly one must be given); None if absent."""
    if (id is None) == (key is None):
        raise BudgraphError(f"give exactly one of `id` and `{key_name}`", field="id")
    if id is not None:
        row: AnyRow | None = await info.context.loaders.get(loader).load(
            expect_global_id(id, loader.table.__name__)
        )
        return row
    assert key is not None
    return await by_key(key)
