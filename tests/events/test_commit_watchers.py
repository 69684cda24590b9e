"""A process is told of every commit that moved the registry version, and of no other.

Given a watcher on the sessionmaker, when units of work write, only read, or roll back, then the
watcher hears each new version once, in order, and nothing for the others; unwatched, it hears none.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph import db
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork, unwatch_commits, watch_commits


async def test_a_watcher_hears_each_version_a_commit_made(
    sessions: async_sessionmaker[RequestSession],
) -> None:
    heard: list[int] = []
    watch_commits(sessions, heard.append)
    async with UnitOfWork(sessions, actor="test") as uow:
        uow.session.add(db.Engine(slug="watched", name="Watched"))
    async with UnitOfWork(sessions, actor="test") as uow:
        await uow.session.execute(select(db.Engine.id))
    async with UnitOfWork(sessions, actor="test") as uow:
        uow.session.add(db.Engine(slug="rolled-back", name="Rolled back"))
        await uow.session.flush()
        await uow.rollback()
    async with UnitOfWork(sessions, actor="test") as uow:
        engine = await uow.session.scalar(select(db.Engine).where(db.Engine.slug == "watched"))
        assert engine is not None
        engine.name = "Renamed"
    async with UnitOfWork(sessions, actor="test") as uow:
        version = await uow.session.scalar(select(db.RegistryState.version))
    assert version is not None
    assert heard == [version - 1, version]

    unwatch_commits(sessions, heard.append)
    async with UnitOfWork(sessions, actor="test") as uow:
        uow.session.add(db.Engine(slug="unwatched", name="Unwatched"))
    assert heard == [version - 1, version]
