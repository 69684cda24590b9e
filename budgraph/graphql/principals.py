"""Who is calling: the API key of an ``Authorization`` value, looked up in a short transaction."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.auth.keys import Principal
from budgraph.auth.service import authenticate
from budgraph.kit.availability import DatabaseAvailability
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.kit.unit_of_work import UnitOfWork

log = logging.getLogger("budgraph.auth")
UNAVAILABLE = "the registry is temporarily unavailable; try again shortly"


class Authenticator:
    def __init__(
        self, sessions: async_sessionmaker[RequestSession], availability: DatabaseAvailability | None = None
    ) -> None:
        self.sessions = sessions
        self.availability = availability or DatabaseAvailability()

    async def principal(self, authorization: str | None, address: str | None) -> Principal | None:
        """The caller (None without a key); a bad key raises UNAUTHENTICATED, an unreachable
        database SERVICE_UNAVAILABLE."""
        if not authorization:
            return None
        if not self.availability.admit():
            raise BudgraphError(UNAVAILABLE, code=ErrorCode.SERVICE_UNAVAILABLE)
        try:
            async with UnitOfWork(self.sessions, actor="anonymous") as uow:
                principal = await authenticate(uow.session, authorization, address=address)
        except (DBAPIError, PoolTimeout, OSError) as error:
            self.availability.failed()
            log.error("authentication could not reach the database: %s: %s", type(error).__name__, error)
            raise BudgraphError(UNAVAILABLE, code=ErrorCode.SERVICE_UNAVAILABLE) from None
        except BaseException:
            self.availability.settle()
            raise
        self.availability.succeeded()
        return principal
