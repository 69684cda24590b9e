"""A bounded soak: mixed reads and writes at concurrency 16 against the app served for real.

Given the app served on a small pool, when 16 clients read (pages, runtime lookups, the change
feed, over HTTP and the WebSocket) and write (create, rename and delete engines and versions) for
a while, then no answer is a 5xx or a masked error, and afterwards the database agrees with its
change log: the registry version is the last change's, versions have no gaps, the rows that exist
are exactly those created and not deleted, and each row's last logged values are its values.
``BUDGRAPH_SOAK_SECONDS`` sets the length (default 60).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import time
from collections import Counter
from typing import Any

import asyncpg
import httpx
import pytest

from budgraph.db.enums import ApiKeyScope
from budgraph.kit.ids import to_global_id
from tests.conftest import live_key
from tests.live import LiveServer, graphql_ws, idle_in_transaction, plain_dsn

pytestmark = pytest.mark.slow

SECONDS = float(os.environ.get("BUDGRAPH_SOAK_SECONDS", "60"))
CONCURRENCY = 16

READS = [
    (
        "query ($after: String) { engines(first: 10, after: $after) { pageInfo { endCursor } nodes { slug versions(first: 3) { nodes { version } } } } }",
        {},
    ),
    (
        '{ compatibleEngineVersions(architecture: "LlamaForCausalLM", deviceArchitecture: CUDA) { totalCount nodes { containerImage } } }',
        {},
    ),
    ('{ latestEngineVersion(engine: "soak-0", deviceArchitecture: CUDA) { version } }', {}),
    (
        "query ($since: BigInt!) { changes(since: $since, first: 50) { registryVersion changes { entityKind operation } } }",
        {"since": 0},
    ),
    ("{ engineVersions(first: 20) { totalCount nodes { version engine { slug } } } }", {}),
]
CREATE_ENGINE = "mutation ($slug: String!) { createEngine(input: {slug: $slug, name: $slug}) { id } }"
RENAME_ENGINE = "mutation ($id: ID!, $name: String!) { updateEngine(id: $id, input: {name: $name}) { name } }"
DELETE_ENGINE = "mutation ($id: ID!) { deleteEngine(id: $id) { deletedId } }"
CREATE_VERSION = """mutation ($engine: ID!, $version: String!) { createEngineVersion(input: {engineId: $engine,
  version: $version, deviceArchitecture: CUDA, containerImage: "soak:1"}) { id } }"""
DELETE_VERSION = "mutation ($id: ID!) { deleteEngineVersion(id: $id) { deletedId } }"


class Soak:
    def __init__(self, live: LiveServer, key: str) -> None:
        self.live = live
        self.key = key
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.engines: list[str] = []
        self.versions: list[str] = []
        self.names = itertools.count()
        self.problems: list[str] = []

    async def send(
        self, http: httpx.AsyncClient, query: str, variables: dict[str, Any], write: bool = False
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.key}"} if write else {}
        response = await http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
        self.statuses[response.status_code] += 1
        body: dict[str, Any] = response.json()
        for error in body.get("errors", []):
            code = error["extensions"]["code"]
            self.codes[code] += 1
            if code == "INTERNAL_SERVER_ERROR":
                self.problems.append(f"{query[:60]}: {error['message']}")
        if response.status_code >= 500:
            self.problems.append(f"{response.status_code} for {query[:60]}: {response.text[:200]}")
        return body

    async def write(self, http: httpx.AsyncClient, rng: random.Random) -> None:
        choice = rng.random()
        if choice < 0.35 or not self.engines:
            body = await self.send(http, CREATE_ENGINE, {"slug": f"soak-{next(self.names)}"}, write=True)
            if body.get("data"):
                self.engines.append(body["data"]["createEngine"]["id"])
        elif choice < 0.6:
            engine = rng.choice(self.engines)
            await self.send(
                http, RENAME_ENGINE, {"id": engine, "name": f"renamed {next(self.names)}"}, write=True
            )
        elif choice < 0.8:
            engine = rng.choice(self.engines)
            body = await self.send(
                http, CREATE_VERSION, {"engine": engine, "version": f"1.{next(self.names)}.0"}, write=True
            )
            if body.get("data"):
                self.versions.append(body["data"]["createEngineVersion"]["id"])
        elif choice < 0.9 and self.versions:
            version = self.versions.pop(rng.randrange(len(self.versions)))
            await self.send(http, DELETE_VERSION, {"id": version}, write=True)
        else:
            engine = self.engines.pop(rng.randrange(len(self.engines)))
            await self.send(http, DELETE_ENGINE, {"id": engine}, write=True)  # refused while it has versions

    async def client(self, seed: int, until: float) -> None:
        rng = random.Random(seed)
        async with httpx.AsyncClient(base_url=self.live.http, timeout=60) as http:
            while time.monotonic() < until:
                if rng.random() < 0.3:
                    await self.write(http, rng)
                elif rng.random() < 0.05:
                    async with graphql_ws(self.live.ws) as ws:
                        messages = await ws.operate("1", READS[0][0])
                    if messages[0]["type"] != "next":
                        self.problems.append(f"websocket: {messages}")
                else:
                    query, variables = rng.choice(READS)
                    await self.send(http, query, variables)


async def test_a_bounded_soak_leaves_no_5xx_and_a_database_consistent_with_its_log(
    live: LiveServer, live_url: str
) -> None:
    key = await live_key(live_url, "soak", ApiKeyScope.WRITE)
    soak = Soak(live, key)
    began = time.monotonic()
    await asyncio.gather(*(soak.client(seed, began + SECONDS) for seed in range(CONCURRENCY)))
    elapsed = time.monotonic() - began
    total = sum(soak.statuses.values())
    print(f"\nsoak: {total} requests in {elapsed:.0f} s ({total / elapsed:.0f}/s) at concurrency {CONCURRENCY};"
          f" statuses {dict(soak.statuses)}; error codes {dict(soak.codes)}")  # fmt: skip
    assert soak.problems == []
    assert all(status < 500 for status in soak.statuses)
    assert total > CONCURRENCY * 10

    connection = await asyncpg.connect(plain_dsn(live_url))
    try:
        version = await connection.fetchval("SELECT version FROM registry_state")
        logged = [
            r["registry_version"]
            for r in await connection.fetch("SELECT DISTINCT registry_version FROM change_log ORDER BY 1")
        ]
        assert logged == list(range(1, version + 1))
        for table, kind in (("engine", "Engine"), ("engine_version", "EngineVersion")):
            live_ids = {r["id"] for r in await connection.fetch(f"SELECT id FROM {table}")}
            changes = await connection.fetch(
                "SELECT entity_id, operation FROM change_log WHERE entity_kind = $1 ORDER BY id", kind
            )
            expected: set[int] = set()
            for row in changes:
                if row["operation"] == "create":
                    expected.add(row["entity_id"])
                elif row["operation"] == "delete":
                    expected.discard(row["entity_id"])
            assert live_ids == expected, kind
        names = await connection.fetch(
            """SELECT e.id, e.name, (SELECT c.after->>'name' FROM change_log c
                 WHERE c.entity_kind = 'Engine' AND c.entity_id = e.id AND c.after ? 'name'
                 ORDER BY c.id DESC LIMIT 1) AS logged FROM engine e"""
        )
        assert [(r["id"], r["name"]) for r in names] == [(r["id"], r["logged"]) for r in names]
        actors = {r["actor"] for r in await connection.fetch("SELECT DISTINCT actor FROM change_log")}
        assert actors == {"soak"}
        created = {to_global_id("Engine", r["entity_id"]) for r in await connection.fetch(
            "SELECT entity_id FROM change_log WHERE entity_kind = 'Engine' AND operation = 'create'")}  # fmt: skip
        assert set(soak.engines) <= created
    finally:
        await connection.close()
    assert await idle_in_transaction(live_url) == 0
