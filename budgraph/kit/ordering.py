"""Turning an ``orderBy`` input into SQL ORDER BY terms (nulls always last, ties broken by id)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

Column = ColumnElement[Any] | InstrumentedAttribute[Any]


def direction_of(column: Column, direction: str) -> ColumnElement[Any]:
    return column.desc().nulls_last() if direction == "desc" else column.asc().nulls_last()


def order_terms(
    columns: Mapping[str, Column], field: str, direction: str, tie_breaker: Column
) -> list[ColumnElement[Any]]:
    """``columns[field]`` in ``direction``, then ``tie_breaker`` so pages never overlap."""
    return [direction_of(columns[field], direction), tie_breaker.asc()]
