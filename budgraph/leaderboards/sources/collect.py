"""Fetching everything a source needs for one refresh, ready for ``source.parse``.

The first requests are conditional (validators by URL, from the previous refresh). When every one
of them answers 304 the leaderboard has not changed and nothing else is fetched. Otherwise any that
answered 304 are fetched again in full (``parse`` needs every body), then the follow-ups (further
pages) are fetched in order, unconditionally, up to ``max_requests`` in all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from budgraph.leaderboards.sources.base import LeaderboardSource, SourceRequest, SourceSettings
from budgraph.leaderboards.sources.errors import SourceFetchError
from budgraph.leaderboards.sources.fetch import (
    DEFAULT_MAX_BYTES,
    CachedValidators,
    FetchResult,
    RetryPolicy,
    fetch,
)


@dataclass(frozen=True)
class SourceFetch:
    changed: bool
    payloads: list[bytes] = field(default_factory=list)  # in request order; empty when unchanged
    validators: dict[str, CachedValidators] = field(default_factory=dict)  # of the first requests


async def fetch_source(
    source: LeaderboardSource,
    settings: SourceSettings,
    client: httpx.AsyncClient,
    validators: Mapping[str, CachedValidators] | None = None,
    *,
    max_requests: int = 100,
    max_bytes: int = DEFAULT_MAX_BYTES,
    retry: RetryPolicy = RetryPolicy(),
) -> SourceFetch:
    known = validators or {}
    first = source.requests(settings)
    results = [await fetch(r, client, known.get(r.url), max_bytes=max_bytes, retry=retry) for r in first]
    fresh_validators = {r.url: result.validators for r, result in zip(first, results, strict=True)}
    if first and all(result.status == "not_modified" for result in results):
        return SourceFetch(changed=False, validators=fresh_validators)
    queue: list[tuple[SourceRequest, bytes]] = []
    for request, result in zip(first, results, strict=True):
        if result.body is None:
            result = await fetch(request, client, None, max_bytes=max_bytes, retry=retry)
            fresh_validators[request.url] = result.validators
        queue.append((request, _body(result, request)))
    payloads: list[bytes] = []
    count = len(first)
    while queue:
        request, body = queue.pop(0)
        payloads.append(body)
        for follow_up in source.follow_ups(request, body):
            count += 1
            if count > max_requests:
                raise SourceFetchError(f"{source.key}: more than {max_requests} requests", transient=False)
            result = await fetch(follow_up, client, None, max_bytes=max_bytes, retry=retry)
            queue.append((follow_up, _body(result, follow_up)))
    return SourceFetch(changed=True, payloads=payloads, validators=fresh_validators)


def _body(result: FetchResult, request: SourceRequest) -> bytes:
    # An unconditional fetch is always fresh (``fetch`` refuses a 304 it did not ask for).
    if result.body is None:
        raise SourceFetchError(f"{request.url}: no body", transient=False)
    return result.body
