"""What the change log keeps of an entity: its natural key and its field values, as JSON.

Field names are the column names (as in ``changedFields``). References to other rows (and the row's
own ``id``) are written as the global ids the graph uses, never as internal keys; exact decimals
are strings in plain notation, dates ISO 8601. The natural key is the smallest unique constraint
of the table (``{"slug": "vllm"}``, ``{"engine_id": <id>, "version": ..., ...}``), so a tombstone
names what disappeared in terms a client knows.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import Column, Table, UniqueConstraint, inspect
from sqlalchemy.orm import Mapper

from budgraph.db.base import Base, ProvenanceMixin
from budgraph.kit.ids import to_global_id

BOOKKEEPING = frozenset({"updated_at", "created_at", "edited_fields"})
Snapshot = dict[str, Any]
T = TypeVar("T")


def kind_of(table: Table) -> str | None:
    """The entity kind (GraphQL type name) whose rows ``table`` holds."""
    return _kinds_by_table().get(table.name)


@functools.cache
def _kinds_by_table() -> dict[str, str]:
    return {
        mapper.local_table.name: mapper.class_.__name__
        for mapper in Base.registry.mappers
        if isinstance(mapper.local_table, Table)
    }


def logged_kinds() -> list[str]:
    """Every entity kind the change log records (the registry entities)."""
    return sorted(m.class_.__name__ for m in Base.registry.mappers if issubclass(m.class_, ProvenanceMixin))


def _cached(compute: Callable[[type[Any]], T]) -> Callable[[type[Any]], T]:
    """``compute`` once per mapped class."""
    found: dict[type[Any], T] = {}

    def cached(cls: type[Any]) -> T:
        if cls not in found:
            found[cls] = compute(cls)
        return found[cls]

    return cached


@_cached
def recorded_columns(cls: type[Any]) -> tuple[str, ...]:
    """The attributes of ``cls`` the change log keeps (all columns but the bookkeeping ones)."""
    mapper: Mapper[Any] = inspect(cls)
    return tuple(sorted(attr.key for attr in mapper.column_attrs if attr.key not in BOOKKEEPING))


@_cached
def _references(cls: type[Any]) -> dict[str, str]:
    """Attribute -> kind of the row it names, for the primary key and every foreign key."""
    mapper: Mapper[Any] = inspect(cls)
    found: dict[str, str] = {}
    for attr in mapper.column_attrs:
        column = attr.columns[0]
        if not isinstance(column, Column):
            continue
        if column.primary_key:
            found[attr.key] = cls.__name__
        for foreign_key in column.foreign_keys:
            kind = kind_of(foreign_key.column.table)
            if kind is not None:
                found[attr.key] = kind
    return found


@_cached
def natural_key_columns(cls: type[Any]) -> tuple[str, ...]:
    """The columns a table names as its natural key (``__natural_key__``), else those of its smallest
    unique constraint (or unique index)."""
    declared: tuple[str, ...] | None = getattr(cls, "__natural_key__", None)
    if declared:
        return declared
    mapper: Mapper[Any] = inspect(cls)
    table = mapper.local_table
    assert isinstance(table, Table)
    candidates = [
        tuple(column.name for column in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, UniqueConstraint)
    ]
    candidates += [
        tuple(column.name for column in index.columns)
        for index in table.indexes
        if index.unique and index.expressions and all(isinstance(e, Column) for e in index.expressions)
    ]
    candidates = [names for names in candidates if names]
    return min(candidates, key=lambda names: (len(names), names)) if candidates else ("id",)


def field_value(cls: type[Any], name: str, value: Any) -> Any:
    """``value`` of attribute ``name`` as JSON (references as global ids)."""
    kind = _references(cls).get(name)
    if kind is not None and isinstance(value, int):
        return to_global_id(kind, value)
    return as_json(value)


def as_json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): as_json(item) for key, item in value.items()}
    return str(value)


def snapshot(obj: Any, names: tuple[str, ...] | None = None) -> Snapshot:
    """The current (raw) values of ``names`` (default: every recorded column) of ``obj``."""
    cls = type(obj)
    return {name: getattr(obj, name) for name in (names or recorded_columns(cls))}


def as_json_snapshot(cls: type[Any], values: Snapshot) -> dict[str, Any]:
    return {name: field_value(cls, name, value) for name, value in sorted(values.items())}
