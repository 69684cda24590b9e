"""Sort orders: turning an ``orderBy`` input into SQL ORDER BY terms (nulls always last, ties broken by
id), and reading an ORDER BY back as sort keys that keyset cursors can compare against."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, inspect
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import Label, UnaryExpression, _label_reference

Column = ColumnElement[Any] | InstrumentedAttribute[Any]
# A list's order as its GraphQL input gives it, (field, direction), or None for the list's default;
# each repository turns it into its list's ORDER BY.
ListOrder = tuple[str, str] | None


def direction_of(column: Column, direction: str) -> ColumnElement[Any]:
    return column.desc().nulls_last() if direction == "desc" else column.asc().nulls_last()


def order_terms(
    columns: Mapping[str, Column], field: str, direction: str, tie_breaker: Column
) -> list[ColumnElement[Any]]:
    """``columns[field]`` in ``direction``, then ``tie_breaker`` so pages never overlap."""
    return [direction_of(columns[field], direction), tie_breaker.asc()]


@dataclass(frozen=True)
class SortKey:
    """One term of an ORDER BY: what is compared, which way, and where NULLs go."""

    expression: ColumnElement[Any]
    descending: bool
    nulls_first: bool

    def reversed(self) -> SortKey:
        return SortKey(self.expression, not self.descending, not self.nulls_first)

    def on(self, expression: ColumnElement[Any]) -> SortKey:
        """The same direction and NULL placement on another expression (e.g. a subquery's column)."""
        return SortKey(expression, self.descending, self.nulls_first)

    def term(self) -> ColumnElement[Any]:
        ordered = self.expression.desc() if self.descending else self.expression.asc()
        return ordered.nulls_first() if self.nulls_first else ordered.nulls_last()


def sort_keys(terms: Sequence[ColumnElement[Any]]) -> list[SortKey]:
    """The sort keys of ORDER BY terms, with PostgreSQL's default NULL placement made explicit
    (NULLs sort as if larger than any value: last ascending, first descending)."""
    keys = []
    for term in terms:
        nulls: bool | None = None
        descending = False
        element: Any = term
        if isinstance(element, _label_reference):  # ORDER BY a label of the select list
            element = element.element
        while isinstance(element, UnaryExpression) and element.modifier is not None:
            if element.modifier in (operators.nulls_first_op, operators.nulls_last_op):
                nulls = element.modifier is operators.nulls_first_op
            elif element.modifier is operators.desc_op:
                descending = True
            element = element.element
        while isinstance(element, Label):
            element = element.element
        keys.append(SortKey(element, descending, descending if nulls is None else nulls))
    return keys


def statement_sort_keys(stmt: Select[Any]) -> list[SortKey]:
    """The sort keys of a statement's ORDER BY, made total: when the statement lists one entity per
    row and its primary key is not among the keys yet, the primary key (ascending) is added."""
    keys = sort_keys(list(stmt._order_by_clauses))
    return with_primary_key(keys, listed_entity(stmt))


def with_primary_key(keys: list[SortKey], entity: Any) -> list[SortKey]:
    """``keys`` ending with ``entity``'s primary key (added ascending if it is not there)."""
    if entity is None:
        return keys
    info = inspect(entity)
    for column in info.mapper.primary_key:
        attribute: ColumnElement[Any] = getattr(entity, info.mapper.get_property_by_column(column).key)
        expression = attribute.expression if isinstance(attribute, InstrumentedAttribute) else attribute
        if not any(key.expression.compare(expression) for key in keys):
            keys = [*keys, SortKey(expression, descending=False, nulls_first=False)]
    return keys


def listed_entity(stmt: Select[Any]) -> Any:
    """The entity a statement lists one of per row (``select(db.Model)...``), else None."""
    descriptions = stmt.column_descriptions
    if stmt._group_by_clauses or not descriptions:
        return None
    first = descriptions[0]
    entity = first.get("entity")  # a Core select of a table has no entity
    return entity if entity is not None and first["expr"] is entity else None


def ordering_id(keys: Sequence[SortKey]) -> str:
    """A short fingerprint of a sort order: a cursor made in one order is refused in another."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    text = "|".join(
        f"{key.expression.compile(dialect=dialect)} {'desc' if key.descending else 'asc'}"
        f" {'first' if key.nulls_first else 'last'}"
        for key in keys
    )
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
