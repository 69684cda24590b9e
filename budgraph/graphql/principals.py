"""Who is calling: the API key of an ``Authorization`` value, looked up in a short transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.auth.keys import Principal
from budgraph.auth.service import authenticate
from budgraph.kit.db import RequestSession
from budgraph.kit.unit_of_work import UnitOfWork


class Authenticator:
    def __init__(self, sessions: async_sessionmaker[RequestSession]) -> None:
        self.sessions = sessions

    async def principal(self, authorization: str | None, address: str | None) -> Principal | None:
        """The caller (None without a key); a bad key raises UNAUTHENTICATED."""
        if not authorization:
            return None
        async with UnitOfWork(self.sessions, actor="anonymous") as uow:
            return await authenticate(uow.session, authorization)
