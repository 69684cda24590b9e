"""How a job failed: worth retrying (the network, Redis, the object store) or not."""

from __future__ import annotations

import asyncio

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


class JobFailure(Exception):
    """A job could not finish; the message, in the domain's words, is shown to anyone reading the job."""


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


def public_message(error: BaseException, job_id: int) -> str:
    """What the job's ``error`` tells anyone who reads it: the domain words of the failures we raise
    on purpose, a plain sentence for a lost service, and for anything else only that something
    broke inside the worker and where operators find the details (never a path or a repr)."""
    from budgraph.jobs.failure_types import OWN_WORDS
    from budgraph.storage import StorageError, StorageUnavailable

    if isinstance(error, StorageUnavailable):
        return "the object store did not answer"
    if isinstance(error, StorageError):
        return (
            "the object store refused an operation on the model's files"
            f" (details in the worker log, job {job_id})"
        )
    if isinstance(error, (JobFailure, *OWN_WORDS)):
        return str(error) or type(error).__name__
    if isinstance(error, (RedisConnectionError, RedisTimeoutError)):
        return "Redis (the job queue) did not answer"
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return "a service the job needs did not answer in time"
    if isinstance(error, ConnectionError):
        return "a service the job needs could not be reached"
    return f"an internal error stopped the job (details in the worker log, job {job_id})"
