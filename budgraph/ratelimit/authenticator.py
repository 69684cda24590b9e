"""The failed-authentication throttle in front of the pipeline's ``Authenticator``.

    authenticator = ThrottledAuthenticator(sessions, AuthFailureThrottle(redis_url, settings), availability)

A drop-in for ``budgraph.graphql.principals.Authenticator`` (HTTP and WebSocket alike): a request
that presents a key from an address over the failure limit is refused (``RateLimitRefusal``,
RATE_LIMITED) before its key is looked up; each UNAUTHENTICATED answer counts one failure.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.auth.keys import Principal
from budgraph.graphql.principals import Authenticator
from budgraph.kit.availability import DatabaseAvailability
from budgraph.kit.db import RequestSession
from budgraph.ratelimit.auth_failures import AuthFailureThrottle


class ThrottledAuthenticator(Authenticator):
    def __init__(
        self,
        sessions: async_sessionmaker[RequestSession],
        throttle: AuthFailureThrottle,
        availability: DatabaseAvailability | None = None,
    ) -> None:
        super().__init__(sessions, availability)
        self.throttle = throttle

    async def principal(self, authorization: str | None, address: str | None) -> Principal | None:
        if not authorization:
            return None
        async with self.throttle.guard(address):
            return await super().principal(authorization, address)
