"""The failed-authentication throttle in front of the pipeline's ``Authenticator``.

    authenticator = ThrottledAuthenticator(sessions, AuthFailureThrottle(redis_url, settings), availability)

A drop-in for ``budgraph.graphql.principals.Authenticator`` (HTTP and WebSocket alike): a request
that presents a key from an address over the failure limit is refused (``RateLimitRefusal``,
RATE_LIMITED) before its key is looked up; each UNAUTHENTICATED answer counts one failure. A key
this process has not seen succeed is counted before its lookup (and given back when it is valid),
so concurrent guesses cannot outrun the limit.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.auth.keys import Principal
from budgraph.graphql.principals import Authenticator
from budgraph.kit.availability import DatabaseAvailability
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import Unauthenticated
from budgraph.ratelimit.auth_failures import AuthFailureThrottle

TRUSTED_FOR = 60.0
TRUSTED_KEYS = 10_000


class ThrottledAuthenticator(Authenticator):
    def __init__(
        self,
        sessions: async_sessionmaker[RequestSession],
        throttle: AuthFailureThrottle,
        availability: DatabaseAvailability | None = None,
    ) -> None:
        super().__init__(sessions, availability)
        self.throttle = throttle
        # Digests of credentials that authenticated recently (never the key or the caller: every
        # request is still looked up, so a revoked key is refused at once).
        self._known: OrderedDict[bytes, float] = OrderedDict()

    async def principal(self, authorization: str | None, address: str | None) -> Principal | None:
        if not authorization:
            return None
        digest = hashlib.sha256(authorization.encode("utf-8", "surrogatepass")).digest()
        if self._trusted(digest):
            # A key that worked a moment ago: failures still count, nothing is reserved up front
            # (a client sending many requests at once with its own key is never throttled).
            async with self.throttle.guard(address):
                try:
                    return await super().principal(authorization, address)
                except Unauthenticated:
                    self._known.pop(digest, None)
                    raise
        async with self.throttle.reserve(address):
            principal = await super().principal(authorization, address)
        self._trust(digest)
        return principal

    def _trusted(self, digest: bytes) -> bool:
        until = self._known.get(digest)
        if until is None or until < time.monotonic():
            self._known.pop(digest, None)
            return False
        self._known.move_to_end(digest)
        return True

    def _trust(self, digest: bytes) -> None:
        self._known[digest] = time.monotonic() + TRUSTED_FOR
        self._known.move_to_end(digest)
        while len(self._known) > TRUSTED_KEYS:
            self._known.popitem(last=False)
