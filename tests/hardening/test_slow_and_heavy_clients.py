"""Slow, heavy and greedy clients cannot stop the others (the app served for real).

Given the app served by uvicorn on a small pool, when clients send heavy documents, trickle their
bodies a byte at a time, upload without a key or past the limit, or run operations that would hold
the database for ever, then each of them gets a typed JSON error, the work it started stops, no
database connection is held for it, and a cheap query keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest

from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.settings import Settings
from tests.conftest import live_key
from tests.live import LiveServer, idle_in_transaction, plain_dsn, serve

CHEAP = {"query": "{ registryVersion }"}


@pytest.fixture
def small(live_settings: Settings) -> Iterator[LiveServer]:
    """The app on a pool of 3 connections, with short deadlines."""
    settings = live_settings.model_copy(
        update={
            "db_pool_size": 3,
            "body_read_timeout_seconds": 2.0,
            "upload_idle_timeout_seconds": 2.0,
            "upload_max_bytes": 4 * 1024**2,
            "request_timeout_seconds": 1.5,
        }
    )
    with serve(create_app(settings)) as server:
        yield server


async def _cheap(live: LiveServer) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=live.http, timeout=30) as client:
        response = await client.post("/graphql", json=CHEAP)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _heavy(n: int) -> str:
    """The costliest document to validate within the limits (199 overlapping fields), different each
    time (a comment) so the validation cache cannot help."""
    return f"# {n}\n{{ " + " ".join("engines { totalCount }" for _ in range(199)) + " }"


async def test_heavy_documents_do_not_starve_a_cheap_query(small: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=small.http, timeout=60) as client:
        heavy = [asyncio.create_task(client.post("/graphql", json={"query": _heavy(n)})) for n in range(60)]
        await asyncio.sleep(0.05)
        cheap = [await _cheap(small) for _ in range(5)]
        # The cheap queries were answered while most heavy documents were still waiting to be checked
        # (they are checked one at a time, off the event loop).
        unfinished = sum(not task.done() for task in heavy)
        answers = await asyncio.gather(*heavy)
    assert all(body["data"] == {"registryVersion": 0} for body in cheap)
    assert unfinished >= 30
    # Each heavy document ran (or ran into the 1.5 s deadline of this app: 199 counts each).
    for answer in answers:
        codes = {e["extensions"]["code"] for e in answer.json().get("errors", [])}
        assert (answer.status_code, codes) in ((200, set()), (504, {"TIMEOUT"})), answer.text[:300]


async def test_megabyte_documents_are_refused_at_once(small: LiveServer) -> None:
    overlapping = "{ " + "engines { totalCount } " * 5000 + "}"  # ~120 KB: the original attack
    async with httpx.AsyncClient(base_url=small.http, timeout=30) as client:
        refused = await asyncio.gather(
            *(client.post("/graphql", json={"query": overlapping}) for _ in range(3))
        )
        assert (await _cheap(small))["data"] == {"registryVersion": 0}
    for response in refused:
        assert response.status_code == 200
        assert response.json()["errors"][0]["extensions"]["limit"] == "documentBytes"


async def _slow_body(live: LiveServer, total: int, pace: float) -> bytes:
    """POST a JSON body of ``total`` bytes, a byte every ``pace`` seconds; returns the answer."""
    reader, writer = await asyncio.open_connection(live.host, live.port)
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {total}\r\n\r\n"
    )
    writer.write(head.encode())
    await writer.drain()
    answer = asyncio.create_task(reader.read(65536))
    for _ in range(total):
        if answer.done():
            break
        try:
            writer.write(b" ")
            await writer.drain()
        except ConnectionError:
            break
        await asyncio.sleep(pace)
    data = await asyncio.wait_for(answer, 30)
    writer.close()
    return data


async def test_slow_bodies_hold_no_database_connection(small: LiveServer, live_url: str) -> None:
    trickles = [asyncio.create_task(_slow_body(small, 1000, 0.2)) for _ in range(25)]
    await asyncio.sleep(0.5)
    for _ in range(5):
        assert (await _cheap(small))["data"] == {"registryVersion": 0}
        assert small.checked_out() == 0
        await asyncio.sleep(0.2)
    answers = await asyncio.gather(*trickles)
    for answer in answers:
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 408"), answer[:200]
        assert json.loads(body)["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"
    assert await idle_in_transaction(live_url) == 0


async def _upload_head(
    live: LiveServer, length: int, token: str | None, chunked: bool = False
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection(live.host, live.port)
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    size = "Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {length}\r\n"
    writer.write(
        f"POST /graphql HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: multipart/form-data; boundary=XX\r\n{size}\r\n".encode()
    )
    await writer.drain()
    return reader, writer


async def _status(reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
    data = await asyncio.wait_for(reader.read(65536), 15)
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


async def test_an_anonymous_gigabyte_upload_is_refused_from_its_headers(
    small: LiveServer, live_url: str
) -> None:
    reader, writer = await _upload_head(small, 1024**3, None)
    writer.write(b"--XX\r\n")  # a few bytes of the promised gigabyte, then nothing
    status, body = await _status(reader)
    writer.close()
    assert status == 401
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    key = await live_key(live_url, "uploader", ApiKeyScope.WRITE)
    reader, writer = await _upload_head(small, 1024**3, key)
    status, body = await _status(reader)
    writer.close()
    assert status == 413
    assert body["errors"][0]["extensions"] == {"code": "PAYLOAD_TOO_LARGE", "maximum": 4 * 1024**2}


async def test_an_upload_over_the_limit_stops_while_it_streams(small: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "uploader", ApiKeyScope.WRITE)
    reader, writer = await _upload_head(small, 0, key, chunked=True)
    preamble = (
        b'--XX\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        b'{"query": "mutation ($f: Upload!) { uploadModelArchive(file: $f, uri: \\"org/x\\") { model { id } } }",'
        b' "variables": {"f": null}}\r\n--XX\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        b'{"0": ["variables.f"]}\r\n--XX\r\nContent-Disposition: form-data; name="0"; filename="a.tar"\r\n'
        b"Content-Type: application/x-tar\r\n\r\n"
    )
    chunk = b"\0" * 65536
    sent = 0
    answer = asyncio.create_task(reader.read(65536))
    writer.write(b"%x\r\n%s\r\n" % (len(preamble), preamble))
    while not answer.done() and sent < 256 * 1024**2:
        try:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        except ConnectionError:
            break
        sent += len(chunk)
        # drain() does not yield while the socket takes the data: let the answer be read as soon as
        # it arrives, so `sent` is what went out before the server answered, not the loop's luck.
        await asyncio.sleep(0)
    data = await asyncio.wait_for(answer, 15)
    writer.close()
    assert data.startswith(b"HTTP/1.1 413"), data[:200]
    # The server stopped reading at its limit (4 MiB plus the multipart allowance): far less than
    # the client was willing to send.
    assert sent < 64 * 1024**2


async def test_a_stalled_upload_is_dropped(small: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "uploader", ApiKeyScope.WRITE)
    reader, writer = await _upload_head(small, 10_000, key)
    writer.write(b'--XX\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{')
    await writer.drain()
    status, body = await _status(reader)
    writer.close()
    assert status == 408
    assert body["errors"][0]["extensions"]["code"] == "REQUEST_TIMEOUT"


async def _lock_the_job(url: str, job_pk: int) -> asyncpg.Connection:
    connection = await asyncpg.connect(plain_dsn(url))
    await connection.execute("BEGIN")
    await connection.execute("SELECT 1 FROM job WHERE id = $1 FOR UPDATE", job_pk)
    return connection


async def _waiting_on_locks(url: str, ours: int) -> int:
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND pid <> $1",
            ours,
        )
    finally:
        await connection.close()
    return count


async def _registered_job(live: LiveServer, key: str) -> tuple[str, int]:
    async with httpx.AsyncClient(base_url=live.http) as client:
        response = await client.post(
            "/graphql",
            json={"query": 'mutation { registerModel(input: {uri: "budtest/locked"}) { job { id } } }'},
            headers={"Authorization": f"Bearer {key}"},
        )
    job_id: str = response.json()["data"]["registerModel"]["job"]["id"]
    from budgraph.kit.ids import from_global_id

    return job_id, from_global_id(job_id)[1]


CANCEL = "mutation ($id: ID!) { cancelJob(id: $id) { status } }"


async def test_the_deadline_stops_the_work_not_only_the_answer(small: LiveServer, live_url: str) -> None:
    key = await live_key(live_url, "operator", ApiKeyScope.WRITE)
    job_id, job_pk = await _registered_job(small, key)
    holder = await _lock_the_job(live_url, job_pk)
    try:
        began = time.monotonic()
        async with httpx.AsyncClient(base_url=small.http, timeout=30) as client:
            response = await client.post(
                "/graphql",
                json={"query": CANCEL, "variables": {"id": job_id}},
                headers={"Authorization": f"Bearer {key}"},
            )
        waited = time.monotonic() - began
        assert response.status_code == 504
        assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
        assert waited < 10  # the lock is held for ever: only the deadline ended the request
        # The cancelled statement no longer waits for the lock, and its connection is back.
        for _ in range(50):
            if await _waiting_on_locks(live_url, holder.get_server_pid()) == 0 and small.checked_out() == 0:
                break
            await asyncio.sleep(0.1)
        assert await _waiting_on_locks(live_url, holder.get_server_pid()) == 0
        assert small.checked_out() == 0
    finally:
        await holder.execute("ROLLBACK")
        await holder.close()
    async with httpx.AsyncClient(base_url=small.http) as client:
        job = await client.post(
            "/graphql",
            json={"query": "query ($id: ID!) { job(id: $id) { status } }", "variables": {"id": job_id}},
        )
    assert job.json()["data"] == {"job": {"status": "QUEUED"}}


async def test_postgres_stops_a_statement_that_runs_past_its_timeout(
    live_settings: Settings, live_url: str
) -> None:
    settings = live_settings.model_copy(
        update={"request_timeout_seconds": 60.0, "db_statement_timeout_ms": 300}
    )
    with serve(create_app(settings)) as live:
        key = await live_key(live_url, "operator", ApiKeyScope.WRITE)
        job_id, job_pk = await _registered_job(live, key)
        holder = await _lock_the_job(live_url, job_pk)
        try:
            async with httpx.AsyncClient(base_url=live.http, timeout=30) as client:
                response = await client.post(
                    "/graphql",
                    json={"query": CANCEL, "variables": {"id": job_id}},
                    headers={"Authorization": f"Bearer {key}"},
                )
        finally:
            await holder.execute("ROLLBACK")
            await holder.close()
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TIMEOUT"]
    assert (
        "statement" not in body["errors"][0]["message"].lower() or "database" in body["errors"][0]["message"]
    )


async def test_an_answer_over_the_size_cap_is_refused_and_changes_nothing(
    client_with: Any, writer_token: str
) -> None:
    client = await client_with(max_response_bytes=1024)
    big = " ".join(
        f'e{i}: createEngine(input: {{slug: "big-{i}", name: "{"N" * 150}"}}) {{ name }}' for i in range(10)
    )
    body = await client.execute(f"mutation {{ {big} }}", token=writer_token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RESPONSE_TOO_LARGE"]
    assert body["errors"][0]["extensions"]["maximum"] == 1024
    assert (await client.data("{ engines { totalCount } }"))["engines"]["totalCount"] == 0


MODEL_WITH_SIBLINGS = """
query ($uri: String!) { model(uri: $uri) {
  uri parameterCount license { key name } scores { score benchmark { key } }
  architecture { className engineVersions(first: 20) { nodes { version engine { slug } } } }
  files(first: 50) { nodes { path } } jobs(first: 10) { nodes { kind } }
  scanResults(first: 50) { nodes { path } } factSources { field source }
} }
"""


async def test_a_field_stopped_by_postgres_costs_its_siblings_not_the_registry(
    live_settings: Settings, live_url: str
) -> None:
    """Given a model whose `scores` wait on a lock past PostgreSQL's statement timeout, when it is
    asked for with sibling fields that read the same connection, then the answer is the typed
    TIMEOUT, and the next queries are answered (the connection that was still cancelling its
    siblings' statement is discarded; the registry is not taken for unreachable)."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from budgraph.kit.db import RequestSession
    from budgraph.kit.unit_of_work import UnitOfWork
    from budgraph.seeds.service import seed
    from tests import factories

    engine = create_async_engine(live_url, pool_size=1)
    try:
        async with UnitOfWork(async_sessionmaker(engine, class_=RequestSession), actor="test") as uow:
            await seed(uow.session)
            await uow.session.flush()
            await factories.model(uow.session, "acme/slow-scores-7b", architecture="Qwen2ForCausalLM")
    finally:
        await engine.dispose()
    settings = live_settings.model_copy(
        update={"request_timeout_seconds": 60.0, "db_statement_timeout_ms": 200}
    )
    with serve(create_app(settings)) as live:
        holder = await asyncpg.connect(plain_dsn(live_url))
        await holder.execute("BEGIN; LOCK TABLE leaderboard_entry IN ACCESS EXCLUSIVE MODE")
        try:
            async with httpx.AsyncClient(base_url=live.http, timeout=30) as client:
                slow = await client.post(
                    "/graphql",
                    json={"query": MODEL_WITH_SIBLINGS, "variables": {"uri": "acme/slow-scores-7b"}},
                )
                codes = [e["extensions"]["code"] for e in slow.json()["errors"]]
                assert "TIMEOUT" in codes, slow.text
                assert "SERVICE_UNAVAILABLE" not in codes, slow.text
                for _ in range(5):
                    cheap = await client.post("/graphql", json=CHEAP)
                    assert cheap.status_code == 200, cheap.text
                    assert cheap.json().get("errors") is None, cheap.text
        finally:
            await holder.execute("ROLLBACK")
            await holder.close()
        for _ in range(50):
            if live.checked_out() == 0:
                break
            await asyncio.sleep(0.1)
        assert live.checked_out() == 0
        assert await idle_in_transaction(live_url) == 0
