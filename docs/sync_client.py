"""A runtime's copy of the budgraph registry, kept current by the change feed (docs/sync.md).

Self-contained: it needs Python 3.11, httpx and (for ``push``) websockets, nothing of budgraph. Give
it an ``httpx.AsyncClient`` whose ``base_url`` is the registry (and, for large registries, an
``Authorization: Bearer <key>`` header: a key has a larger rate-limit budget), then ``await
RegistrySync(http).sync()`` once, or ``await RegistrySync(http).follow(stop)`` to poll until ``stop``
is set, or ``await RegistrySync(http).push(ws_url, stop)`` to be sent each new version over the
registryChanged subscription (or call ``on_event(data)`` for each message of the Dapr topic).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

log = logging.getLogger("sync_client")

# The entities this runtime keeps, and the fields it keeps of each (references to other entities as
# their global ids). Any kind of the feed can be added; the feed is asked for these kinds only.
FIELDS: dict[str, str] = {
    "Engine": "slug name homepageUrl origin",
    "EngineVersion": "engine { id } version deviceArchitecture containerImage releaseDate status"
    " endpoints features toolCallParsers reasoningParsers withdrawnArchitectures withdrawnQuantization",
    "ModelArchitecture": "className family supportsLora supportsPipelineParallelism"
    " defaultToolCallParser defaultReasoningParser",
    "CompatibilityEdge": "engineVersion { id } architecture { id }",
    "ParserRule": "engine { id } ruleType parser matchType pattern priority enabled notes chatTemplate",
    "QuantizationSupport": "engineVersion { id } method deviceArchitecture minComputeCapability"
    " activationDtypes",
    "Hardware": "sku name vendor deviceArchitecture memoryGb memoryBandwidthGbps computeCapability"
    " devicesPerPackage",
    "HardwarePrice": "hardware { id } provider { id } region instanceType devicesPerInstance"
    " onDemandPerHour spotPerHour currency asOf",
    "Provider": "slug name kind homepageUrl",
    "ProviderModel": "provider { id } modelId mode inputPerMillion outputPerMillion maxInputTokens"
    " maxOutputTokens",
}

FEED = """
query Feed($since: BigInt!, $epoch: ID, $after: String, $kinds: [String!], $first: Int!) {
  changes(since: $since, epoch: $epoch, after: $after, kinds: $kinds, first: $first) {
    registryVersion registryEpoch hasMore endCursor
    changes { entityKind entityId operation }
  }
}
"""
SUBSCRIPTION = """
subscription Follow($since: BigInt, $epoch: ID, $kinds: [String!]) {
  registryChanged(since: $since, epoch: $epoch, kinds: $kinds) {
    registryVersion registryEpoch changes { entityKind entityId operation }
  }
}
"""
POSITION = "query Position { registryVersion registryEpoch }"
NODES_PER_READ = 100  # the cap of `nodes(ids:)`; a version pushed may hold more changes of one kind
NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { id __typename ... on %s { %s } } }"

# Answers worth asking again after a pause: the registry is busy, down or rate-limiting this client.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
RETRY_CODES = frozenset({"RATE_LIMITED", "SERVICE_UNAVAILABLE", "TIMEOUT"})


class SyncError(Exception):
    """An answer the sync cannot go on from: the first error's ``code`` and message."""

    def __init__(self, code: str, message: str, extensions: Mapping[str, Any]) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.extensions = dict(extensions)


@dataclass
class RegistryCopy:
    """What a runtime keeps: its entities by global id, and where in the registry's history they are.

    ``version`` and ``epoch`` are the position of the last finished sync; ``after`` is the feed cursor
    of a sync that stopped part-way (it goes on from there). Persist all four together.
    """

    version: int = 0
    epoch: str | None = None
    after: str | None = None
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with jitter for answers worth retrying; ``Retry-After`` wins when given."""

    first_seconds: float = 0.5
    max_seconds: float = 30.0
    attempts: int = 8

    def delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after is not None and retry_after.isdigit():
            return float(retry_after)
        return min(self.max_seconds, self.first_seconds * 2.0**attempt) * random.uniform(0.5, 1.0)


class RegistrySync:
    """Keeps ``copy`` equal to the registry's entities of the kinds in ``fields``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        copy: RegistryCopy | None = None,
        fields: Mapping[str, str] = FIELDS,
        page_size: int = 100,
        backoff: Backoff = Backoff(),
    ) -> None:
        self.http = http
        self.copy = copy or RegistryCopy()
        self.fields = dict(fields)
        self.page_size = page_size
        self.backoff = backoff
        self._etag: str | None = None  # of the last position poll

    async def sync(self, after_page: Callable[[], Awaitable[None]] | None = None) -> int:
        """Apply every change since the copy's version; returns how many changes it applied.

        A registry that was reset since (RESYNC_REQUIRED) is copied again from scratch into a new
        copy, which replaces the old one once it is complete.
        """
        try:
            return await self._catch_up(self.copy, after_page)
        except SyncError as error:
            if error.code != "RESYNC_REQUIRED":
                raise
            log.warning("the registry was reset (%s); copying it again", error)
            fresh = RegistryCopy(epoch=error.extensions.get("registryEpoch"))
            applied = await self._catch_up(fresh, after_page)
            self.copy = fresh
            return applied

    async def _catch_up(self, copy: RegistryCopy, after_page: Callable[[], Awaitable[None]] | None) -> int:
        applied = 0
        while True:
            variables = {
                "since": copy.version,
                "epoch": copy.epoch,
                "after": copy.after,
                "kinds": sorted(self.fields),
                "first": self.page_size,
            }
            try:
                page = (await self._query(FEED, variables))["changes"]
            except SyncError as error:
                if error.code != "INVALID_CURSOR" or copy.after is None:
                    raise
                copy.after = None  # a damaged cursor: read the changes since `version` again
                continue
            await self._apply(copy, page["changes"])
            applied += len(page["changes"])
            if page["hasMore"]:
                copy.after = page["endCursor"]
            else:  # caught up: the page's version is the copy's now
                copy.version, copy.epoch, copy.after = page["registryVersion"], page["registryEpoch"], None
            if after_page is not None:
                await after_page()
            if not page["hasMore"]:
                return applied

    async def _apply(self, copy: RegistryCopy, changes: list[dict[str, Any]]) -> None:
        """Drop what was deleted; fetch the current state of what was created or updated."""
        fetch: dict[str, set[str]] = {}
        for change in changes:
            kind, entity_id = change["entityKind"], change["entityId"]
            if change["operation"] == "DELETE":
                copy.entities.pop(entity_id, None)
                fetch.get(kind, set()).discard(entity_id)
            else:
                fetch.setdefault(kind, set()).add(entity_id)
        for kind, ids in sorted(fetch.items()):
            listed = sorted(ids)
            for start in range(0, len(listed), NODES_PER_READ):
                chunk = listed[start : start + NODES_PER_READ]
                found = (await self._query(NODES % (kind, self.fields[kind]), {"ids": chunk}))["nodes"]
                for entity_id, node in zip(chunk, found, strict=True):
                    if node is None:  # deleted since this page was read: its tombstone follows
                        copy.entities.pop(entity_id, None)
                    else:
                        copy.entities[entity_id] = node

    async def moved(self) -> bool:
        """Whether the registry is at another position than the copy: one small GET, answered
        ``304 Not Modified`` (no body) while the registry has not moved since the last poll."""
        headers = {"If-None-Match": self._etag} if self._etag else {}
        response = await self._send("GET", {"query": POSITION}, headers)
        if response is None:
            return False
        self._etag = response.headers.get("ETag")
        position = _data(response)
        return (position["registryVersion"], position["registryEpoch"]) != (
            self.copy.version,
            self.copy.epoch,
        )

    async def on_event(self, event: Mapping[str, Any]) -> bool:
        """Handle one registry event (the data of a message of the Dapr topic): sync when it names a
        version the copy does not have. Delivery is at least once, and a sync applies every change up
        to the registry's version, so a repeated or already applied event costs no request."""
        if event["entityKind"] not in self.fields:
            return False
        if event["registryEpoch"] == self.copy.epoch and event["registryVersion"] <= self.copy.version:
            return False
        await self.sync()
        return True

    async def follow(
        self,
        stop: asyncio.Event,
        poll_seconds: float = 5.0,
        after_page: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Keep the copy current until ``stop`` is set: sync whenever a poll finds the registry moved."""
        await self.sync(after_page)
        while not stop.is_set():
            if await self.moved():
                await self.sync(after_page)
            with suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_seconds)

    async def push(self, ws_url: str, stop: asyncio.Event, headers: Mapping[str, str] | None = None) -> None:
        """Keep the copy current from the registryChanged subscription (graphql-transport-ws at
        ``ws_url``) until ``stop`` is set: subscribed from the copy's version, each version sent is
        applied as a page; a lost connection subscribes again from the last version applied."""
        await self.sync()
        attempt = 0
        while not stop.is_set():
            try:
                listening = asyncio.ensure_future(self._subscribed(ws_url, headers or {}))
                stopped = asyncio.ensure_future(stop.wait())
                await asyncio.wait({listening, stopped}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                if not listening.done():
                    listening.cancel()
                    with suppress(asyncio.CancelledError):
                        await listening
                    return
                listening.result()
                attempt = 0
            except SyncError as error:
                if error.code != "RESYNC_REQUIRED":
                    raise
                await self.sync()  # copies the reset registry again, then subscribes from there
            except (OSError, websockets.ConnectionClosed) as error:
                wait = self.backoff.delay(attempt, None)
                attempt += 1
                log.warning("the subscription was lost (%s); again in %.1f s", error, wait)
                await asyncio.sleep(wait)

    async def _subscribed(self, ws_url: str, headers: Mapping[str, str]) -> None:
        """One subscription, until the registry ends it (an error) or the connection closes."""
        protocol = [Subprotocol("graphql-transport-ws")]
        async with websockets.connect(ws_url, subprotocols=protocol) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": dict(headers)}))
            if json.loads(await ws.recv()).get("type") != "connection_ack":
                raise SyncError("UNAUTHENTICATED", "the registry did not accept the connection", {})
            variables = {"since": self.copy.version, "epoch": self.copy.epoch, "kinds": sorted(self.fields)}
            subscribe = {"query": SUBSCRIPTION, "variables": variables}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
            async for raw in ws:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await ws.send(json.dumps({"type": "pong"}))
                elif message.get("type") == "next":
                    version = _payload_data(message["payload"])["registryChanged"]
                    await self._apply(self.copy, version["changes"])
                    self.copy.version, self.copy.epoch = version["registryVersion"], version["registryEpoch"]
                elif message.get("type") == "error":
                    _payload_data({"errors": message["payload"]})
                elif message.get("type") == "complete":
                    return

    async def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = await self._send("POST", {"query": query, "variables": variables}, {})
        assert response is not None  # only a GET with If-None-Match is answered 304
        return _data(response)

    async def _send(
        self, method: str, body: dict[str, Any], headers: dict[str, str]
    ) -> httpx.Response | None:
        """The answer to one request, retried with backoff while the registry says to wait;
        ``None`` for 304 Not Modified."""
        for attempt in range(self.backoff.attempts):
            try:
                if method == "GET":
                    response = await self.http.get("/graphql", params=body, headers=headers)
                else:
                    response = await self.http.post("/graphql", json=body, headers=headers)
            except httpx.TransportError as error:
                wait = self.backoff.delay(attempt, None)
                log.warning("the registry cannot be reached (%s); retrying in %.1f s", error, wait)
                await asyncio.sleep(wait)
                continue
            if response.status_code == 304:
                return None
            if response.status_code in RETRY_STATUSES or _codes(response) & RETRY_CODES:
                wait = self.backoff.delay(attempt, response.headers.get("Retry-After"))
                log.warning("the registry answered %d; retrying in %.1f s", response.status_code, wait)
                await asyncio.sleep(wait)
                continue
            return response
        raise SyncError("UNAVAILABLE", f"no answer after {self.backoff.attempts} attempts", {})


def _codes(response: httpx.Response) -> set[str]:
    try:
        errors = response.json().get("errors") or []
    except ValueError:
        return set()
    return {str((error.get("extensions") or {}).get("code")) for error in errors}


def _data(response: httpx.Response) -> dict[str, Any]:
    """The answer's ``data``, or the SyncError of its first error."""
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise SyncError("BAD_ANSWER", f"HTTP {response.status_code}, not a GraphQL answer", {}) from None
    return _payload_data(body)


def _payload_data(body: Mapping[str, Any]) -> dict[str, Any]:
    errors = body.get("errors")
    if errors:
        first = errors[0]
        extensions = first.get("extensions") or {}
        raise SyncError(str(extensions.get("code")), first.get("message", ""), extensions)
    data: dict[str, Any] = body["data"]
    return data
