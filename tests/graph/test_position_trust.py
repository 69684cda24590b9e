"""The registry position a process trusts between reads (budgraph/registry/position.py): read once,
then trusted while PostgreSQL announces no commit of the version row (migration 0016's trigger);
an announcement, a commit of this process or a lost connection ends the trust at once, and a
transaction that rolls back announces nothing."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import make_url

from budgraph.registry.position import PositionReader


def _dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _until_untrusted(reader: PositionReader) -> None:
    for _ in range(200):
        if reader._known is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the announcement never arrived")


async def test_a_position_is_trusted_until_a_commit_is_announced(live_database_url: str) -> None:
    reader = PositionReader(live_database_url, 5.0, trust_seconds=60.0)
    writer = await asyncpg.connect(_dsn(live_database_url))
    try:
        first = await reader.read()
        assert [await reader.read() for _ in range(5)] == [first] * 5
        assert reader.reads == 1  # trusted: no read for the next requests

        # another process commits a new version: its announcement ends the trust
        async with writer.transaction():
            await writer.execute("UPDATE registry_state SET version = version + 1")
        await _until_untrusted(reader)
        moved = await reader.read()
        assert (moved.version, reader.reads) == (first.version + 1, 2)

        # a write that rolls back announces nothing
        tx = writer.transaction()
        await tx.start()
        await writer.execute("UPDATE registry_state SET version = version + 1")
        await tx.rollback()
        await asyncio.sleep(0.3)
        assert await reader.read() == moved
        assert reader.reads == 2

        reader.moved(moved.version)  # a commit of this process: the next request reads
        assert await reader.read() == moved
        assert reader.reads == 3
    finally:
        await writer.execute("UPDATE registry_state SET version = version - 1")  # as it was
        await writer.close()
        await reader.close()


async def test_without_trust_every_request_reads(live_database_url: str) -> None:
    reader = PositionReader(live_database_url, 5.0, trust_seconds=0.0)
    try:
        for _ in range(3):
            await reader.read()
        assert reader.reads == 3
    finally:
        await reader.close()


async def test_a_lost_connection_ends_the_trust(live_database_url: str) -> None:
    reader = PositionReader(live_database_url, 5.0, trust_seconds=60.0)
    try:
        await reader.read()
        assert reader._connection is not None
        reader._connection.terminate()
        await asyncio.sleep(0.05)
        await reader.read()
        assert reader.reads == 2
    finally:
        await reader.close()
