"""What the `budgraph apikey` commands do, each in a unit of work of its own."""

from __future__ import annotations

import getpass
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

from budgraph.auth import keys, repository, service
from budgraph.db.enums import ApiKeyScope
from budgraph.kit import clock
from budgraph.kit.db import RequestSession, create_engine, session_factory
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings

T = TypeVar("T")


def cli_actor() -> str:
    """Who is at the terminal, as the audit names them."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name for this uid (a bare container)
        return "cli"


async def in_unit_of_work(settings: Settings, work: Callable[[RequestSession], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction of a command (committed when it returns, as the CLI user)."""
    engine = create_engine(settings)
    try:
        async with UnitOfWork(session_factory(engine), actor=cli_actor()) as uow:
            result = await work(uow.session)
    finally:
        await engine.dispose()
    return result


async def create(
    settings: Settings, name: str, scope: ApiKeyScope, expires_at: datetime | None, rate_limit: int | None
) -> str:
    async def work(session: RequestSession) -> str:
        return await service.create_key(
            session, name, scope, actor=cli_actor(), expires_at=expires_at, rate_limit=rate_limit
        )

    return await in_unit_of_work(settings, work)


async def revoke(settings: Settings, name: str) -> bool:
    async def work(session: RequestSession) -> bool:
        return await service.revoke_key(session, name, actor=cli_actor())

    return await in_unit_of_work(settings, work)


async def set_rate_limit(settings: Settings, name: str, rate_limit: int | None) -> None:
    async def work(session: RequestSession) -> None:
        await service.set_rate_limit(session, name, rate_limit, actor=cli_actor())

    await in_unit_of_work(settings, work)


def _moment(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


async def listing(settings: Settings) -> list[str]:
    """One line per key: name, scope, status, expiry, last use, budget (never a secret)."""

    async def work(session: RequestSession) -> list[str]:
        now = clock.now()
        stmt = repository.keys_statement(repository.ApiKeyQuery(), now)
        lines = ["NAME\tSCOPE\tSTATUS\tEXPIRES (UTC)\tLAST USED (UTC)\tRATE LIMIT"]
        for row in await session.scalars(stmt):
            status = keys.status_of(row.revoked_at, row.expires_at, now)
            budget = str(row.rate_limit) if row.rate_limit else f"default ({settings.rate_limit_key_budget})"
            lines.append(
                "\t".join(
                    [
                        row.name,
                        row.scope,
                        status.value,
                        _moment(row.expires_at),
                        _moment(row.last_used_at),
                        budget,
                    ]
                )
            )
        return lines

    return await in_unit_of_work(settings, work)
