"""How a job failed: worth retrying (the network, Redis, the object store) or not."""

from __future__ import annotations

import asyncio

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class JobFailure(Exception):
    """A job could not finish; the message is shown to operators."""


class TransientFailure(JobFailure):
    """Retried with backoff."""


class PermanentFailure(JobFailure):
    """Not retried: the job is failed with this message."""


class JobCancelled(Exception):
    """An operator cancelled the job; it stops at the next step."""


_TRANSIENT_BUILTINS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncio.TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
)


def is_transient(error: BaseException) -> bool:
    if isinstance(error, TransientFailure):
        return True
    if isinstance(error, PermanentFailure):
        return False
    from budgraph.jobs.failure_types import TRANSIENT_TYPES

    return isinstance(error, _TRANSIENT_BUILTINS + TRANSIENT_TYPES)


def is_expected(error: BaseException) -> bool:
    """Failures that need no traceback in the logs: the job's error message says it all."""
    from budgraph.jobs.failure_types import PERMANENT_TYPES

    return is_transient(error) or isinstance(error, (PermanentFailure, *PERMANENT_TYPES))


def backoff_seconds(attempt: int, base: float = 5.0) -> float:
    """base, 2 x base, 4 x base, ... (5 s, 10 s, 20 s by default), capped at 5 minutes."""
    return float(min(300.0, base * 2 ** max(0, attempt - 1)))
