"""Keyset conditions: which rows sort after (or before) a cursor, NULLs and mixed directions included.

For sort keys k1..kn and a cursor's values v1..vn, "after" is the usual expansion
``(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ...`` where ">" means "later in this key's order": ``<`` for a
descending key, and a NULL sorts where the key puts NULLs (first or last). Because the condition
compares values, not positions, rows inserted or deleted elsewhere never shift a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from budgraph.kit.cursors import CursorValue
from budgraph.kit.ordering import SortKey


def after(keys: Sequence[SortKey], values: Sequence[CursorValue]) -> ColumnElement[bool]:
    """Rows strictly after the position ``values`` in the order of ``keys``."""
    branches = []
    for index, (key, value) in enumerate(zip(keys, values, strict=True)):
        later = _later(key, value)
        if later is None:
            continue
        equal = [_equal(k.expression, v) for k, v in zip(keys[:index], values[:index], strict=True)]
        branches.append(and_(*equal, later))
    if not branches:
        return false()
    condition = or_(*branches)
    first, value = keys[0], values[0]
    if value is not None and not _nullable(first.expression):
        # Implied by the expansion, but an index can seek to it: a deep page then starts at its
        # cursor instead of filtering every row before it.
        at_or_later = first.expression <= value if first.descending else first.expression >= value
        condition = and_(at_or_later, condition)
    return condition


def before(keys: Sequence[SortKey], values: Sequence[CursorValue]) -> ColumnElement[bool]:
    """Rows strictly before the position ``values`` in the order of ``keys``."""
    return after([key.reversed() for key in keys], values)


def both(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool]:
    given = [condition for condition in conditions if condition is not None]
    return and_(*given) if given else true()


def not_true(condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """Rows for which ``condition`` does not hold: false or NULL (a comparison with a NULL key)."""
    return condition.is_not(true())


def _equal(expression: ColumnElement[Any], value: CursorValue) -> ColumnElement[bool]:
    return expression.is_(None) if value is None else expression == value


def _later(key: SortKey, value: CursorValue) -> ColumnElement[bool] | None:
    expression = key.expression
    if value is None:
        # Only values on the far side of the NULLs: non-NULL ones if NULLs come first, else none.
        return expression.is_not(None) if key.nulls_first else None
    beyond = expression < value if key.descending else expression > value
    if key.nulls_first or not _nullable(expression):
        return beyond
    return or_(beyond, expression.is_(None))


def _nullable(expression: ColumnElement[Any]) -> bool:
    """Whether the sort key can be NULL (a column declared NOT NULL cannot; anything else may)."""
    return bool(getattr(expression, "nullable", True))
