"""Telling an outage from a failure: is the database there at all?

A job that fails because PostgreSQL went away (a lost connection, a refused or missing socket, a
server starting up) is retried, never marked failed for it. The error types say little (a unix
socket that is gone is a ``FileNotFoundError``), so the worker asks the database itself.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork

log = logging.getLogger("budgraph.workers")
PROBE_TIMEOUT_SECONDS = 5.0


async def database_reachable(
    sessions: async_sessionmaker[RequestSession], within: float = PROBE_TIMEOUT_SECONDS
) -> bool:
    async def probe() -> None:
        async with UnitOfWork(sessions, actor="worker") as uow:
            await uow.session.execute(text("SELECT 1"))

    try:
        await asyncio.wait_for(probe(), within)
    except Exception:
        return False
    return True
