"""Automatic persisted queries (Apollo's protocol): a client sends a document's sha256 instead of it.

A client that knows a document's hash sends only the hash (``extensions.persistedQuery``, also over
GET, which makes the request small and cacheable). A hash the registry does not know answers
``PERSISTED_QUERY_NOT_FOUND``; the client then sends the document with its hash once, and the
registry keeps it (in this process and, with Redis, for every replica). A document whose hash is
not the one given is refused.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict

from redis.asyncio import Redis
from redis.exceptions import RedisError

from budgraph.kit.errors import BudgraphError, ErrorCode

log = logging.getLogger("budgraph.persisted")
_KEEP = 4096


class PersistedQueries:
    def __init__(self, redis: Redis | None = None, max_documents: int = _KEEP) -> None:
        self.redis = redis
        self.max_documents = max_documents
        self._documents: OrderedDict[str, str] = OrderedDict()

    async def resolve(self, digest: str, query: str) -> str | BudgraphError:
        """The document of ``digest``: ``query`` if it is given (and kept), else the one kept."""
        if query:
            if hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest() != digest:
                return BudgraphError(
                    "the document's sha256 is not `persistedQuery.sha256Hash`",
                    code=ErrorCode.BAD_REQUEST,
                    field="extensions",
                )
            await self._keep(digest, query)
            return query
        known = self._documents.get(digest)
        if known is None and self.redis is not None:
            try:
                shared = await self.redis.get(f"budgraph:persisted:{digest}")
            except (RedisError, OSError) as error:
                log.warning("persisted queries are unreachable in Redis: %s", error)
                shared = None
            known = shared.decode("utf-8", "surrogatepass") if shared is not None else None
            if known is not None:
                self._remember(digest, known)
        if known is None:
            return BudgraphError("PersistedQueryNotFound", code=ErrorCode.PERSISTED_QUERY_NOT_FOUND)
        self._documents.move_to_end(digest)
        return known

    async def _keep(self, digest: str, query: str) -> None:
        if digest in self._documents:
            self._documents.move_to_end(digest)
            return
        self._remember(digest, query)
        if self.redis is not None:
            try:
                await self.redis.set(f"budgraph:persisted:{digest}", query.encode("utf-8", "surrogatepass"))
            except (RedisError, OSError) as error:
                log.warning("persisted queries are unreachable in Redis: %s", error)

    def _remember(self, digest: str, query: str) -> None:
        self._documents[digest] = query
        while len(self._documents) > self.max_documents:
            self._documents.popitem(last=False)
