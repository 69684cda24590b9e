"""Migrations upgrade and downgrade cleanly, and match the ORM tables exactly."""

from __future__ import annotations

import asyncio
import os

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from budgraph.db import Base
from budgraph.kit.migrate import downgrade, upgrade
from tests.conftest import Servers, _drop_database, _recreate_database


async def _tables(url: str) -> set[str]:
    from sqlalchemy import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    finally:
        await connection.close()
    return {row["tablename"] for row in rows}


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def test_upgrade_downgrade_upgrade(servers: Servers) -> None:
    url = await _recreate_database(servers.admin_database_url, f"budgraph_migrations_{os.getpid()}")
    await asyncio.to_thread(upgrade, url)
    assert set(Base.metadata.tables) | {"alembic_version"} == await _tables(url)

    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(_diff) == []
    finally:
        await engine.dispose()

    await asyncio.to_thread(downgrade, url, "base")
    assert await _tables(url) == {"alembic_version"}
    await asyncio.to_thread(upgrade, url)
    assert "engine_version" in await _tables(url)
    await _drop_database(servers.admin_database_url, f"budgraph_migrations_{os.getpid()}")
