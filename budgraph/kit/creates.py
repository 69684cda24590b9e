"""Creating a row once: an identical repeat answers the existing row, a different one is a CONFLICT.

Creates of one natural key are serialized in PostgreSQL by a transaction-scoped advisory lock on
that key, taken before the row is looked for: a concurrent twin waits until the first commits (or
rolls back), then finds its row, since READ COMMITTED reads what committed before each statement.
So fifty identical concurrent creates give fifty identical answers. The unique index on the key
stays the backstop for writers that do not lock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.db.base import Origin, ProvenanceMixin
from budgraph.kit.errors import Conflict
from budgraph.kit.writes import flush

T = TypeVar("T", bound=ProvenanceMixin)
_SEPARATOR = "\x1f"


def camel(name: str) -> str:
    """The schema's (camelCase) name of a column or attribute."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


async def lock_natural_key(session: AsyncSession, table: str, key: Sequence[Any]) -> None:
    """Hold, until the transaction ends, the lock that serializes writers of ``key`` in ``table``."""
    text_key = _SEPARATOR.join(str(part) for part in key)
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(table), func.hashtext(text_key))))


def first_difference(row: object, values: Mapping[str, Any]) -> str | None:
    """The first of ``values`` (by name) that the row holds differently, or None."""
    for name in sorted(values):
        if getattr(row, name) != values[name]:
            return name
    return None


def refuse_difference(what: str, name: str, field: str | None = None) -> Conflict:
    field = field or camel(name)
    return Conflict(f"{what} already exists with a different `{field}`", field=field)


async def create_once(
    session: AsyncSession,
    table: type[T],
    key: Mapping[str, Any],
    values: Mapping[str, Any],
    what: str,
    find: Callable[[], Awaitable[T | None]],
) -> tuple[T, bool]:
    """The row named by ``key``: created from ``values``, or the existing one if it holds the same
    values (else a CONFLICT naming the first differing field). Returns (row, created)."""
    await lock_natural_key(session, table.__tablename__, [key[name] for name in sorted(key)])  # type: ignore[attr-defined]
    existing = await find()
    if existing is not None:
        different = first_difference(existing, values)
        if different is not None:
            raise refuse_difference(what, different)
        return existing, False
    row = table(**key, **values, origin=Origin.API.value)  # type: ignore[call-arg]
    session.add(row)
    await flush(session, what)
    return row, True
