"""The shape of a Hub model nobody registered yet, read from its config.json in one bounded lookup.

A lookup makes a few metadata requests (the repository info, config.json, the safetensors index or
the single checkpoint's header) in a worker thread, under one deadline for all of them, to an
endpoint whose address is checked first. Its answer is kept in Redis for every API process, so a
runtime polling the same id costs the Hub nothing more: a shape for ``hub_lookup_cache_seconds``, a
repository that does not exist (or cannot be read) for ``hub_lookup_missing_cache_seconds``; a Hub
that cannot be reached is never remembered. Concurrent lookups of one id in a process share one
read, and the reads one client causes are limited per window.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from budgraph.extraction.errors import ExtractionFailed, SourceNotFound, SourceUnavailable, UnsafeUrl
from budgraph.extraction.shape import ShapeFiles, read_shape_files, shape_facts
from budgraph.extraction.sources.addresses import Resolver, check_endpoint, system_resolver
from budgraph.extraction.sources.hub import HubModelFiles
from budgraph.kit.errors import BudgraphError, ErrorCode, NotFound
from budgraph.models.shape import ModelShape
from budgraph.ratelimit.counters import Clock, window_at
from budgraph.settings import Settings

log = logging.getLogger("budgraph.hub_lookup")

LOOKUP_THREADS = 4  # lookups reading the Hub at once in one process; more wait their turn (in the deadline)
_MISSING = "missing"  # the repository or revision does not exist, or is gated or private
_UNREADABLE = "unreadable"  # it exists, but its config.json says nothing usable


class HubLookups:
    """Model shapes from the Hub, shared by a process's requests."""

    def __init__(
        self,
        settings: Settings,
        redis: Redis | None,
        *,
        resolver: Resolver = system_resolver,
        clock: Clock = time.time,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._resolver = resolver
        self._clock = clock
        self._prefix = settings.hub_lookup_redis_prefix
        self._reads: dict[str, asyncio.Task[ModelShape]] = {}
        # Threads of their own: a Hub that hangs holds these, never the loop's default executor.
        self._threads = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="hub-lookup")
        self.hub_reads = 0  # lookups that went to the Hub (the others were answered from Redis)

    async def shape(self, repo_id: str, revision: str, caller: str) -> ModelShape:
        """The shape of ``repo_id`` at ``revision``, as the Hub's files give it.

        Raises ``NotFound`` (no such repository or revision, or gated / private), a
        ``SOURCE_UNREADABLE`` error (no usable config.json), ``SOURCE_UNAVAILABLE`` (the Hub could not
        be asked in time, or its endpoint is refused) or ``RATE_LIMITED`` (``caller`` caused too
        many lookups this window)."""
        key = f"{self._prefix}:shape:{repo_id.lower()}@{revision}"
        kept = await self._kept(key)
        if kept is not None:
            return _decoded(repo_id, kept)
        read = self._reads.get(key)
        if read is None:  # the first asks (and is charged); the others share its outcome
            read = asyncio.ensure_future(self._read(key, repo_id, revision, caller))
            self._reads[key] = read
            read.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(read)

    def close(self) -> None:
        """Stop the lookups' threads (one still waiting for the Hub ends on its own timeout)."""
        self._threads.shutdown(wait=False, cancel_futures=True)

    def _finished(self, key: str, read: asyncio.Task[ModelShape]) -> None:
        self._reads.pop(key, None)
        if not read.cancelled():
            read.exception()  # retrieved: every waiter may have gone

    async def _read(self, key: str, repo_id: str, revision: str, caller: str) -> ModelShape:
        await self._charge(caller)
        self.hub_reads += 1
        what, deadline = f"the Hub repository {repo_id!r}", self._settings.hub_lookup_timeout_seconds
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(deadline):  # a thread left behind ends on its requests' timeout
                found, canonical = await loop.run_in_executor(self._threads, self._fetch, repo_id, revision)
            # Out of the deadline: only the first config read imports transformers (seconds, once).
            facts = await loop.run_in_executor(self._threads, shape_facts, found)
        except TimeoutError:
            raise _unavailable(f"{what} could not be read within {deadline:g} s; try again") from None
        except SourceUnavailable as error:
            raise _unavailable(f"{what} cannot be read now: {error.message}") from None
        except UnsafeUrl as error:
            log.warning("hub lookup refused: %s", error.message)
            raise _unavailable(f"the Hub endpoint is refused: {error.message}") from None
        except SourceNotFound as error:
            await self._keep(key, {"error": _MISSING, "message": error.message}, missing=True)
            raise _error(_MISSING, error.message) from None
        except ExtractionFailed as error:
            await self._keep(key, {"error": _UNREADABLE, "message": error.message}, missing=True)
            raise _error(_UNREADABLE, error.message) from None
        shape = ModelShape.from_facts(canonical, facts)
        await self._keep(key, {"shape": _encoded(shape)}, missing=False)
        return shape

    def _fetch(self, repo_id: str, revision: str) -> tuple[ShapeFiles, str]:
        """The files' reads (in a worker thread): the endpoint checked, each request time-bounded."""
        settings = self._settings
        try:
            check_endpoint(
                settings.hf_endpoint,
                allow_private=settings.hf_endpoint_allow_private,
                resolver=self._resolver,
            )
        except UnsafeUrl:
            raise
        except ExtractionFailed as error:  # the endpoint's name does not resolve: not the repository's fault
            raise SourceUnavailable(error.message) from error
        timeout = settings.hub_lookup_timeout_seconds
        with HubModelFiles(
            repo_id, revision, endpoint=settings.hf_endpoint, token=settings.hf_token, timeout=timeout
        ) as files:
            found = read_shape_files(files, settings.hub_lookup_max_config_bytes)
            return found, files.canonical_id

    async def _kept(self, key: str) -> dict[str, Any] | None:
        if self._redis is None:
            return None
        try:
            stored = await self._redis.get(key)
        except (RedisError, OSError) as error:
            log.warning("hub lookup cache unreadable (%s: %s); asking the Hub", type(error).__name__, error)
            return None
        if stored is None:
            return None
        try:
            kept: dict[str, Any] = json.loads(stored)
        except ValueError:
            return None
        return kept

    async def _keep(self, key: str, value: dict[str, Any], *, missing: bool) -> None:
        if self._redis is None:
            return
        settings = self._settings
        seconds = settings.hub_lookup_missing_cache_seconds if missing else settings.hub_lookup_cache_seconds
        try:
            await self._redis.set(key, json.dumps(value), ex=seconds)
        except (RedisError, OSError) as error:
            log.warning("hub lookup cache unwritable (%s: %s)", type(error).__name__, error)

    async def _charge(self, caller: str) -> None:
        """Count one Hub lookup against ``caller``'s budget; refuse it past the limit."""
        if self._redis is None:
            return
        settings = self._settings
        window = window_at(self._clock(), settings.hub_lookup_window_seconds)
        key = f"{self._prefix}:callers:{caller}:{window.length}:{window.index}"
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.incr(key)
            pipe.pexpire(key, window.keep_ms)
            used, _ = await pipe.execute()
        except (RedisError, OSError) as error:
            if settings.rate_limit_when_redis_down == "closed":
                raise _unavailable("lookups are not counted while Redis is unreachable; try again") from error
            return
        if int(used) > settings.hub_lookup_limit:
            raise BudgraphError(
                f"this client asked about {settings.hub_lookup_limit} unregistered models within"
                f" {window.length} s; try again in {window.reset_seconds} s, or register the model",
                code=ErrorCode.RATE_LIMITED,
                field="model",
                retryAfter=window.reset_seconds,
            )


def _unavailable(message: str) -> BudgraphError:
    return BudgraphError(message, code=ErrorCode.SOURCE_UNAVAILABLE, field="model")


def _error(kind: str, message: str) -> BudgraphError:
    if kind == _MISSING:
        return NotFound(message, field="model")
    return BudgraphError(
        f"cannot read the model's shape: {message}", code=ErrorCode.SOURCE_UNREADABLE, field="model"
    )


def _encoded(shape: ModelShape) -> dict[str, Any]:
    values = dataclasses.asdict(shape)
    values["fact_sources"] = [list(pair) for pair in shape.fact_sources]
    return values


def _decoded(repo_id: str, kept: dict[str, Any]) -> ModelShape:
    """A kept shape, or the kept error raised."""
    values = kept.get("shape")
    if not isinstance(values, dict):
        raise _error(str(kept.get("error")), str(kept.get("message") or f"{repo_id!r} cannot be read"))
    known = {item.name for item in dataclasses.fields(ModelShape)}  # a shape kept by an older release
    facts = {name: value for name, value in values.items() if name in known}
    facts["fact_sources"] = tuple(tuple(pair) for pair in values.get("fact_sources") or ())
    return ModelShape(**facts)
