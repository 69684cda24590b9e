"""A savepoint that rolls back forgets only its own changes, never the transaction's earlier ones."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork


async def test_a_failed_savepoint_keeps_the_changes_made_before_it(
    sessions: async_sessionmaker[RequestSession],
) -> None:
    async with UnitOfWork(sessions, actor="test") as uow:
        uow.session.add(db.Engine(slug="kept", name="Kept"))
        await uow.session.flush()
        try:
            async with uow.session.begin_nested():
                uow.session.add(db.Engine(slug="kept", name="Duplicate"))
                await uow.session.flush()
        except IntegrityError:
            pass
        uow.session.add(db.Engine(slug="after", name="After"))
    async with UnitOfWork(sessions, actor="test") as uow:
        logged = (
            await uow.session.execute(
                select(db.ChangeLogEntry.entity_kind, db.ChangeLogEntry.operation).order_by(
                    db.ChangeLogEntry.id
                )
            )
        ).all()
    assert [tuple(row) for row in logged] == [("Engine", "create"), ("Engine", "create")]
