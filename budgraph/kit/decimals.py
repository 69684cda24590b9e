"""Exact decimal amounts (prices, specs): checked against the column that stores them, shown plainly.

PostgreSQL rounds a value with more decimal places than the column's scale without complaint, and
fails on one with too many integer digits; both are refused here so that what a client writes is
exactly what it reads back. The GraphQL ``Decimal`` scalar (graphql/common.py) writes plain notation.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, overload

from sqlalchemy import Numeric
from sqlalchemy.orm import QueryableAttribute

from budgraph.kit.errors import BudgraphError


@overload
def plain(value: Decimal) -> Decimal: ...
@overload
def plain(value: Decimal | None) -> Decimal | None: ...
def plain(value: Decimal | None) -> Decimal | None:
    """The value without the column's trailing zeros (`2.5`, not `2.50000000`; `10`, not `1E+1`)."""
    if value is None:
        return None
    return Decimal(format(value.normalize(), "f"))


def checked_amount(value: Decimal | None, column: QueryableAttribute[Any], field: str) -> Decimal | None:
    """``value`` if it is finite, not negative and fits ``column`` (a ``Numeric``) without rounding."""
    if value is None:
        return None
    if not value.is_finite():
        raise BudgraphError(f"`{field}` must be a finite number, not {value}", field=field)
    if value < 0:
        raise BudgraphError(f"`{field}` must not be negative (got {value})", field=field)
    numeric = column.expression.type
    assert isinstance(numeric, Numeric)
    assert numeric.precision is not None
    assert numeric.scale is not None
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    if -exponent > numeric.scale:
        raise BudgraphError(
            f"`{field}` has more than {numeric.scale} decimal places ({value}); it would be rounded",
            field=field,
        )
    if value >= Decimal(10) ** (numeric.precision - numeric.scale):
        raise BudgraphError(
            f"`{field}` must be below {Decimal(10) ** (numeric.precision - numeric.scale)} (got {value})",
            field=field,
        )
    return value


def ordered_range(
    low: Decimal | int | None, high: Decimal | int | None, low_field: str, high_field: str
) -> None:
    """Refuse a range whose lower bound is above its upper bound."""
    if low is not None and high is not None and low > high:
        raise BudgraphError(f"`{low_field}` ({low}) is above `{high_field}` ({high})", field=low_field)
