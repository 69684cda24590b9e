"""The failed-authentication throttle in front of the pipeline's ``Authenticator``.

    authenticator = ThrottledAuthenticator(sessions, AuthFailureThrottle(redis_url, settings), availability)

A drop-in for ``budgraph.graphql.principals.Authenticator`` (HTTP and WebSocket alike): a request
that presents a key from an address over the failure limit is refused (``RateLimitRefusal``,
RATE_LIMITED) before its key is looked up; each UNAUTHENTICATED answer counts one failure. Keys
this process has not seen succeed are looked up one at a time per address, so concurrent guesses
cannot outrun the limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import async_sessionmaker

from budgraph.auth.keys import Principal
from budgraph.graphql.principals import Authenticator
from budgraph.kit.availability import DatabaseAvailability
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import Unauthenticated
from budgraph.ratelimit.auth_failures import AuthFailureThrottle
from budgraph.ratelimit.identities import address_identity

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
        self._unverified: dict[str, asyncio.Lock] = {}

    async def principal(self, authorization: str | None, address: str | None) -> Principal | None:
        if not authorization:
            return None
        digest = hashlib.sha256(authorization.encode("utf-8", "surrogatepass")).digest()
        if not self._trusted(digest):
            # Credentials this process has not seen succeed are checked one at a time per address:
            # each failure is counted before the next guess is looked at, so a burst of concurrent
            # guesses cannot outrun the limit, while a client's burst with its own new key waits for
            # the first lookup and then goes through together.
            async with self._one_at_a_time(address):
                if not self._trusted(digest):
                    async with self.throttle.guard(address):
                        principal = await super().principal(authorization, address)
                    self._trust(digest)
                    return principal
        async with self.throttle.guard(address):
            try:
                return await super().principal(authorization, address)
            except Unauthenticated:
                self._known.pop(digest, None)
                raise

    @asynccontextmanager
    async def _one_at_a_time(self, address: str | None) -> AsyncIterator[None]:
        identity = address_identity(address)
        lock = self._unverified.setdefault(identity, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            if not lock.locked() and self._unverified.get(identity) is lock:
                del self._unverified[identity]

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
