"""The change log read as registry versions: what `registryChanged` sends, one version at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.registry import repository


async def versions_after(
    session: AsyncSession, since: int, kinds: Sequence[str] | None, batch: int
) -> AsyncIterator[list[Any]]:
    """The changes after version ``since`` (of ``kinds``), one list per registry version, oldest first.

    The change log is read ``batch`` rows at a time, each read a statement of its own, so the caller
    may end its transaction between two versions (versions become visible in commit order, and a
    committed version never changes: a version read across two batches is whole).
    """
    pending: list[Any] = []
    after: tuple[int, int] | None = None
    while True:
        rows = await repository.changes_since(session, since, after, kinds, batch)
        for row in rows:
            if pending and pending[0].registry_version != row.registry_version:
                yield pending
                pending = []
            pending.append(row)
        if len(rows) < batch:
            break
        after = (rows[-1].registry_version, rows[-1].id)
    if pending:
        yield pending
