"""Fetching one ``SourceRequest``: bounded retries, conditional requests, a cap on the body size.

Connection errors, timeouts, HTTP 429 and 5xx are retried (``attempts`` tries in all) with an
exponential backoff, or the server's ``Retry-After`` when it sends one, both capped; when every try
fails the error is transient. Other 4xx are permanent. With the ETag / Last-Modified of the previous
fetch the request is conditional, and a 304 comes back as ``not_modified`` without a body. A body
over ``max_bytes`` (counted after content decoding, read in a stream) is refused, permanently.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from budgraph.kit.transport import transport_reason
from budgraph.leaderboards.sources.base import SourceRequest
from budgraph.leaderboards.sources.errors import SourceFetchError

DEFAULT_MAX_BYTES = 32 * 1024 * 1024
USER_AGENT = "budgraph-leaderboards/0.1"

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class CachedValidators:
    """The validators of the previous successful fetch of the same URL."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class FetchResult:
    status: Literal["fresh", "not_modified"]
    body: bytes | None  # None when not_modified
    etag: str | None
    last_modified: str | None

    @property
    def validators(self) -> CachedValidators:
        return CachedValidators(self.etag, self.last_modified)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    backoff_seconds: float = 1.0
    max_delay_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a retry policy makes at least one attempt")

    def delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait after failed try ``attempt`` (1-based)."""
        if retry_after is not None and retry_after.strip().isdigit():
            return min(float(retry_after.strip()), self.max_delay_seconds)
        return min(self.backoff_seconds * 2.0 ** (attempt - 1), self.max_delay_seconds)


class _Retryable(Exception):
    def __init__(self, message: str, status: int | None, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


async def fetch(
    request: SourceRequest,
    client: httpx.AsyncClient,
    validators: CachedValidators | None = None,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout_seconds: float = 30.0,
    retry: RetryPolicy = RetryPolicy(),
    sleep: Sleep = asyncio.sleep,
) -> FetchResult:
    headers = {"User-Agent": USER_AGENT, **request.headers}
    if validators is not None and validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators is not None and validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    for attempt in range(1, retry.attempts + 1):
        try:
            return await _fetch_once(request.url, headers, client, max_bytes, timeout_seconds)
        except _Retryable as error:
            if attempt == retry.attempts:
                raise SourceFetchError(
                    f"{request.url}: {error} (after {attempt} tries)", transient=True, status=error.status
                ) from error
            await sleep(retry.delay(attempt, error.retry_after))
    raise AssertionError("unreachable: the last attempt returns or raises")


async def _fetch_once(
    url: str, headers: dict[str, str], client: httpx.AsyncClient, max_bytes: int, timeout_seconds: float
) -> FetchResult:
    try:
        async with client.stream(
            "GET", url, headers=headers, timeout=timeout_seconds, follow_redirects=True
        ) as reply:
            status = reply.status_code
            if status == 429 or status >= 500:
                raise _Retryable(f"HTTP {status}", status, reply.headers.get("Retry-After"))
            etag, modified = reply.headers.get("ETag"), reply.headers.get("Last-Modified")
            if status == 304 and "If-None-Match" not in headers and "If-Modified-Since" not in headers:
                raise SourceFetchError(
                    f"{url}: HTTP 304 to an unconditional request", transient=False, status=304
                )
            if status == 304:
                return FetchResult(
                    "not_modified",
                    None,
                    etag or headers.get("If-None-Match"),
                    modified or headers.get("If-Modified-Since"),
                )
            if not 200 <= status < 300:
                raise SourceFetchError(_permanent_message(url, status), transient=False, status=status)
            declared = reply.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(url, max_bytes, status)
            body = bytearray()
            async for chunk in reply.aiter_bytes():
                body.extend(chunk)
                if len(body) > max_bytes:
                    raise _too_large(url, max_bytes, status)
            return FetchResult("fresh", bytes(body), etag, modified)
    except httpx.TransportError as error:  # connect/read errors and timeouts
        raise _Retryable(transport_reason(error), None) from error


def _too_large(url: str, max_bytes: int, status: int) -> SourceFetchError:
    return SourceFetchError(
        f"{url}: the body is over the {max_bytes}-byte cap", transient=False, status=status
    )


def _permanent_message(url: str, status: int) -> str:
    if status in (401, 403):
        return f"{url}: access denied (HTTP {status}); check the API key or token"
    if status == 404:
        return f"{url}: not found (HTTP 404); the leaderboard may have moved"
    return f"{url}: HTTP {status}"
