"""Helpers for mutation inputs: partial updates and required-but-nullable fields."""

from __future__ import annotations

from enum import Enum
from typing import Any

from strawberry.types.unset import UNSET

from budgraph.kit.errors import BudgraphError


def changes_of(
    data: object, fields: dict[str, str], required: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The given (not UNSET) input fields as ``{column: value}``; ``fields`` maps input to column names.

    Enum values become their stored values; a ``null`` for a field in ``required`` is an error.
    """
    changes: dict[str, Any] = {}
    for attribute, column in fields.items():
        value = getattr(data, attribute)
        if value is UNSET:
            continue
        if value is None and attribute in required:
            name = graphql_name(attribute)
            raise BudgraphError(f"`{name}` cannot be null", field=name)
        changes[column] = stored(value)
    return changes


def graphql_name(attribute: str) -> str:
    """The schema's (camelCase) name of a Python attribute."""
    head, *rest = attribute.split("_")
    return head + "".join(part.capitalize() for part in rest)


def stored(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [stored(item) for item in value]
    return value
