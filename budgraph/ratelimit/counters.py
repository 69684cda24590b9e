"""Counters per fixed window in Redis, and what happens while Redis cannot be reached.

Windows are aligned to multiples of their length since the epoch, so every API process puts a
request in the same window (to within their clocks' skew, which the counters' expiry allows
for). A charge is one Lua script: read, compare and add happen in Redis as one step, so no two
processes can both spend the last of a budget.

While Redis is unreachable the owner gets ``None`` and applies its fail mode. The outage is
logged once when it starts and once when it ends, and Redis is tried again at most once per
``reconnect_interval`` meanwhile, so an outage costs requests neither a log line nor a timeout
each.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger("budgraph.ratelimit")

Clock = Callable[[], float]

# A counter outlives its window by this much, so a process whose clock lags still finds it.
_SKEW_MS = 5_000

# KEYS[1]: the window's counter. ARGV: cost, limit, milliseconds to keep the counter, and credit
# asked for beyond the cost (a lease: spent later by the asking process without a round trip).
# Returns {1, used, granted} when charged (the credit is granted only if it fits too), {0, used, 0}
# when the cost does not fit (nothing is spent).
_CHARGE = """
local cost = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local extra = tonumber(ARGV[4] or '0')
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + cost > limit then
  return {0, used, 0}
end
if used + cost + extra > limit then
  extra = 0
end
if cost + extra > 0 then
  used = redis.call('INCRBY', KEYS[1], cost + extra)
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return {1, used, extra}
"""

# KEYS[1]: the window's counter. ARGV: amount, milliseconds to keep the counter. Returns the count.
_ADD = """
local used = redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return used
"""


# What Redis answers a charge: (charged, used after, credit granted beyond the cost).
Charged = tuple[bool, int, int]

# A charge waiting for its pipeline: key, cost, limit, milliseconds to keep, credit asked for, and
# its answer.
_PendingCharge = tuple[str, int, int, int, int, "asyncio.Future[Charged | None]"]


class _Unreachable(Exception):
    """Redis could not be asked (down, or not retried yet since it went down)."""


@dataclass(frozen=True)
class Window:
    """The fixed window a moment falls in."""

    index: int
    length: int
    reset_seconds: int
    keep_ms: int


def window_at(now: float, length: int) -> Window:
    index = math.floor(now / length)
    left = (index + 1) * length - now
    return Window(
        index=index,
        length=length,
        reset_seconds=max(1, math.ceil(left)),
        keep_ms=math.ceil(left * 1000) + _SKEW_MS,
    )


def _where(redis_url: str) -> str:
    """Where Redis is, for a log line (never the password)."""
    parts = urlsplit(redis_url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or ''}"


class RedisCounters:
    """The Redis connection of a limiter, with its outage bookkeeping."""

    def __init__(
        self,
        redis_url: str,
        *,
        timeout: float,
        purpose: str,
        fail_open: bool,
        reconnect_interval: float = 1.0,
        monotonic: Clock = time.monotonic,
    ) -> None:
        # One retry on a connection error: a connection the pool kept across a Redis restart fails
        # once and is replaced, which is not an outage.
        self._redis: Redis = Redis.from_url(
            redis_url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_error=[RedisConnectionError],
        )
        self._charge = self._redis.register_script(_CHARGE)
        self._add = self._redis.register_script(_ADD)
        self._where = _where(redis_url)
        self._purpose = purpose
        self._fail_open = fail_open
        self._reconnect_interval = reconnect_interval
        self._monotonic = monotonic
        self._down_since: float | None = None
        self._next_attempt = 0.0
        self._waiting: list[_PendingCharge] = []  # charges for the next pipeline
        self._sending: asyncio.Future[None] | None = None  # the pipeline in flight
        self.round_trips = 0  # charges' pipelines sent (each one round trip to Redis)

    @property
    def down(self) -> bool:
        """Whether the last attempt found Redis unreachable."""
        return self._down_since is not None

    async def charge(self, key: str, cost: int, limit: int, keep_ms: int, extra: int = 0) -> Charged | None:
        """Spend ``cost`` if it fits in ``limit``, and reserve ``extra`` more if that fits too:
        (charged, used after, extra granted); ``None`` if Redis is down.

        Charges travel in pipelines: while one is in flight, the charges that arrive wait for the
        next, which carries them all in one round trip (each still its own script, so each is as
        exact as alone). Under load one write and one read to Redis serve a batch of requests.
        """
        future: asyncio.Future[Charged | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((key, cost, limit, keep_ms, extra, future))
        if self._sending is None:
            self._send_next()
        return await asyncio.shield(future)

    def _send_next(self) -> None:
        batch, self._waiting = self._waiting, []
        self._sending = asyncio.ensure_future(self._send(batch))

    async def _send(self, batch: list[_PendingCharge]) -> None:
        try:
            try:
                results = await self._run(lambda: self._pipelined(batch))
            except _Unreachable:
                results = [None] * len(batch)
            answers = [None if r is None else (bool(r[0]), int(r[1]), int(r[2])) for r in results]
            if len(answers) != len(batch):
                raise RuntimeError(f"Redis answered {len(answers)} of {len(batch)} charges")
        except BaseException as error:  # every waiter learns of it (a cancelled one need not)
            for *_, future in batch:
                if not future.done():
                    future.set_exception(error)
                    future.exception()  # marked retrieved: its waiter may have gone
        else:
            for (*_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)
        finally:
            self._sending = None
            if self._waiting:
                self._send_next()

    async def _pipelined(self, batch: list[_PendingCharge]) -> list[Any]:
        self.round_trips += 1
        if len(batch) == 1:
            key, cost, limit, keep_ms, extra, _ = batch[0]
            return [await self._charge(keys=[key], args=[cost, limit, keep_ms, extra])]
        # EVALSHA queued by hand: a pipeline holding Script objects asks Redis whether they exist
        # (SCRIPT EXISTS, one more round trip) before every batch. A script Redis lost (a restart,
        # SCRIPT FLUSH) is loaded once and only the charges it refused are sent again: a charge
        # that ran is never charged twice.
        results: list[Any] = [None] * len(batch)
        todo = list(range(len(batch)))
        for attempt in range(2):
            pipe = self._redis.pipeline(transaction=False)
            for i in todo:
                key, cost, limit, keep_ms, extra, _ = batch[i]
                pipe.evalsha(self._charge.sha, 1, key, str(cost), str(limit), str(keep_ms), str(extra))
            answers = await pipe.execute(raise_on_error=False)
            missing = []
            for i, answer in zip(todo, answers, strict=True):
                if isinstance(answer, NoScriptError) and attempt == 0:
                    missing.append(i)
                elif isinstance(answer, Exception):
                    raise answer
                else:
                    results[i] = answer
            if not missing:
                break
            await self._redis.script_load(_CHARGE)
            todo = missing
        return results

    async def add(self, key: str, amount: int, keep_ms: int) -> int | None:
        """Add to a counter and return its new value; ``None`` if Redis is down."""
        try:
            return int(await self._run(lambda: self._add(keys=[key], args=[amount, keep_ms])))
        except _Unreachable:
            return None

    async def read(self, key: str) -> int | None:
        """A counter's value (0 if absent); ``None`` if Redis is down."""
        try:
            return int(await self._run(lambda: self._redis.get(key)) or 0)
        except _Unreachable:
            return None

    async def close(self) -> None:
        await self._redis.aclose()

    async def _run(self, command: Callable[[], Awaitable[Any]]) -> Any:
        if self._down_since is not None and self._monotonic() < self._next_attempt:
            raise _Unreachable
        try:
            result = await command()
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            self._went_down(error)
            raise _Unreachable from error
        self._came_back()
        return result

    def _went_down(self, error: Exception) -> None:
        now = self._monotonic()
        self._next_attempt = now + self._reconnect_interval
        if self._down_since is not None:
            return
        self._down_since = now
        mode = "letting requests through unlimited" if self._fail_open else "refusing requests"
        log.warning(
            "%s: Redis at %s is unreachable (%s: %s); %s until it is back",
            self._purpose,
            self._where,
            type(error).__name__,
            error,
            mode,
        )

    def _came_back(self) -> None:
        if self._down_since is None:
            return
        outage = self._monotonic() - self._down_since
        self._down_since = None
        log.warning("%s: Redis at %s is reachable again after %.1f s", self._purpose, self._where, outage)
