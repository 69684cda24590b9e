"""Every committed change reaches Dapr pub/sub, in order, at least once; none is lost.

Given a local Dapr runtime (the SDK's own gRPC stubs) and changes committed in the live database,
when the publisher runs (in the served app, or as two processes would), then the sidecar receives
each change's event in change-log order: a refused publish leaves the change unpublished until
the sidecar is back, a crash between publish and mark sends it once more with the same change id,
two publishers never send one change twice or out of order, and no writer waits for a publisher.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import httpx
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.app import create_app
from budgraph.db.enums import ApiKeyScope
from budgraph.events.publisher import ChangePublisher, Pass, PublishInterrupted
from budgraph.events.sidecar import DaprSidecar, PublishFailed
from budgraph.kit.db import RequestSession, session_factory
from budgraph.kit.ids import to_global_id
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.settings import Settings
from tests.conftest import live_key
from tests.events.sidecar import DaprRuntime, dapr_sidecar
from tests.live import LiveServer, idle_in_transaction, plain_dsn, serve

CREATE = 'mutation ($slug: String!) { createEngine(input: {slug: $slug, name: "Evented"}) { id slug } }'
PUBSUB, TOPIC = "budgraph-pubsub", "registry-changes"


@pytest.fixture
async def runtime(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[DaprRuntime]:
    async with dapr_sidecar(monkeypatch) as runtime:
        yield runtime


@pytest.fixture
def events_settings(live_settings: Settings) -> Settings:
    return live_settings.model_copy(
        update={
            "events_pubsub": PUBSUB,
            "events_topic": TOPIC,
            "events_retry_base_seconds": 0.01,
            "events_retry_max_seconds": 0.05,
        }
    )


@pytest.fixture
async def sessions(live_url: str) -> AsyncIterator[async_sessionmaker[RequestSession]]:
    """Sessions on the live database (commits are real), as a publisher process has them."""
    engine = create_async_engine(live_url, pool_size=2)
    yield session_factory(engine)
    await engine.dispose()


def publisher(sessions: async_sessionmaker[RequestSession], settings: Settings) -> ChangePublisher:
    sidecar = DaprSidecar(PUBSUB, TOPIC, publish_timeout=5.0, connect_timeout=10.0)
    return ChangePublisher(sessions, sidecar, settings)


async def commit_engines(sessions: async_sessionmaker[RequestSession], slugs: list[str]) -> None:
    """One transaction (one registry version) per engine."""
    for slug in slugs:
        async with UnitOfWork(sessions, actor="test") as uow:
            uow.session.add(db.Engine(slug=slug, name=slug))


async def change_log(url: str) -> list[tuple[int, int, str, int]]:
    """(change id, registry version, kind, entity id) of every change, in order."""
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT id, registry_version, entity_kind, entity_id FROM change_log ORDER BY id"
        )
    finally:
        await connection.close()
    return [(row["id"], row["registry_version"], row["entity_kind"], row["entity_id"]) for row in rows]


async def marked(url: str) -> int:
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        change_id: int = await connection.fetchval("SELECT change_id FROM change_publication")
    finally:
        await connection.close()
    return change_id


async def until_marked(url: str, change_id: int) -> None:
    """Wait until the publication mark reached ``change_id`` (a publish is marked just after it)."""
    for _ in range(1500):
        if await marked(url) == change_id:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"the mark is at {await marked(url)}, not at change {change_id}")


async def test_a_write_through_graphql_publishes_its_change(
    runtime: DaprRuntime, events_settings: Settings, live_url: str
) -> None:
    # given the app served with a pub/sub component and its sidecar
    key = await live_key(live_url, "events-writer", ApiKeyScope.WRITE)
    with serve(create_app(events_settings)) as live:
        # when a mutation commits
        async with httpx.AsyncClient(base_url=live.http) as client:
            response = await client.post(
                "/graphql",
                json={"query": CREATE, "variables": {"slug": "evented"}},
                headers={"Authorization": f"Bearer {key}"},
            )
        created = response.json()["data"]["createEngine"]
        # then the sidecar receives exactly that change
        await runtime.until(received=1)
        [(change_id, version, kind, entity_id)] = await change_log(live_url)
        [request] = runtime.received
        assert (request.pubsub_name, request.topic, request.data_content_type) == (
            PUBSUB,
            TOPIC,
            "application/json",
        )
        event = runtime.events()[0]
        epoch = event["registryEpoch"]
        assert dict(request.metadata) == {
            "cloudevent.id": f"{epoch}:{change_id}",
            "cloudevent.type": "budgraph.registry.change.v1",
        }
        assert uuid.UUID(epoch)
        assert {
            name: value for name, value in event.items() if name not in ("registryEpoch", "changedAt")
        } == {
            "changeId": change_id,
            "registryVersion": version,
            "entityKind": "Engine",
            "entityId": created["id"],
            "operation": "CREATE",
            "changedFields": event["changedFields"],
        }
        assert (kind, to_global_id(kind, entity_id)) == ("Engine", created["id"])
        assert {"slug", "name"} <= set(event["changedFields"])
        assert version == 1
        # and it is marked: nothing more is sent
        await until_marked(live_url, change_id)
    assert len(runtime.received) == 1


async def test_what_another_process_commits_is_published_by_the_sweep(
    runtime: DaprRuntime,
    events_settings: Settings,
    live_url: str,
    sessions: async_sessionmaker[RequestSession],
) -> None:
    # given the app served with a short sweep, and a change committed before it started
    await commit_engines(sessions, ["before-start"])
    settings = events_settings.model_copy(update={"events_sweep_seconds": 0.1})
    with serve(create_app(settings)) as live:
        await runtime.until(received=1)
        # when another process (a worker, the CLI) commits, which cannot tell the app's publisher
        assert live.app.state.publisher is not None
        await commit_engines(sessions, ["from-the-worker"])
        # then the sweep publishes it too, in order
        ids = [change[0] for change in await change_log(live_url)]
        await until_marked(live_url, ids[-1])
    assert runtime.change_ids() == ids
    assert len(ids) == 2


async def test_without_a_pubsub_component_nothing_runs_and_nothing_is_marked(
    live_settings: Settings, live_url: str, sessions: async_sessionmaker[RequestSession]
) -> None:
    app = create_app(live_settings)
    assert app.state.publisher is None
    with serve(app):
        await commit_engines(sessions, ["quiet"])
    assert len(await change_log(live_url)) == 1
    assert await marked(live_url) == 0


async def test_a_refusing_sidecar_keeps_the_changes_until_it_is_back(
    runtime: DaprRuntime,
    events_settings: Settings,
    live_url: str,
    sessions: async_sessionmaker[RequestSession],
) -> None:
    # given three committed changes and a sidecar whose broker is down
    await commit_engines(sessions, ["a1", "a2", "a3"])
    runtime.failing = grpc.StatusCode.UNAVAILABLE
    one = publisher(sessions, events_settings)
    try:
        # when a pass runs, then nothing is published or marked
        with pytest.raises(PublishInterrupted) as interrupted:
            await one.publish_pending()
        assert interrupted.value.published == 0
        assert runtime.received == []
        assert await marked(live_url) == 0
        # and the publisher's loop keeps retrying while two more changes commit
        one.start()
        await runtime.until(refused=3)
        await commit_engines(sessions, ["a4", "a5"])
        one.nudge()
        # when the broker is back, then all five arrive, in order, once each
        runtime.failing = None
        changes = await change_log(live_url)
        await until_marked(live_url, changes[-1][0])
    finally:
        await one.stop()
    assert runtime.change_ids() == [change[0] for change in changes]
    assert [event["registryVersion"] for event in runtime.events()] == [1, 2, 3, 4, 5]


async def test_a_sidecar_that_is_not_up_yet_loses_nothing(
    runtime: DaprRuntime,
    events_settings: Settings,
    live_url: str,
    sessions: async_sessionmaker[RequestSession],
) -> None:
    # given a committed change and a sidecar whose health endpoint says it is not ready
    await commit_engines(sessions, ["e1"])
    runtime.ready = False
    one = publisher(sessions, events_settings)
    try:
        # when a pass runs, then it fails before it opens a transaction, and nothing is sent or marked
        with pytest.raises(PublishFailed, match="not ready"):
            await one.publish_pending()
        assert await idle_in_transaction(live_url) == 0
        assert runtime.received == []
        assert await marked(live_url) == 0
        # and once the sidecar is ready the change goes out
        runtime.ready = True
        assert (await one.publish_pending()).published == 1
    finally:
        await one.stop()
    assert runtime.change_ids() == [change[0] for change in await change_log(live_url)]


async def test_a_failure_mid_batch_marks_what_was_taken(
    runtime: DaprRuntime,
    events_settings: Settings,
    live_url: str,
    sessions: async_sessionmaker[RequestSession],
) -> None:
    await commit_engines(sessions, ["b1", "b2", "b3"])
    ids = [change[0] for change in await change_log(live_url)]
    one = publisher(sessions, events_settings)
    try:
        # given a sidecar that takes two events, then refuses
        runtime.refuse_after = 2
        with pytest.raises(PublishInterrupted) as interrupted:
            await one.publish_pending()
        # then the two it took are marked, the third is not
        assert interrupted.value.published == 2
        assert await marked(live_url) == ids[1]
        # and once it is back only the third is sent
        runtime.failing = None
        assert (await one.publish_pending()).published == 1
    finally:
        await one.stop()
    assert runtime.change_ids() == ids
    assert await marked(live_url) == ids[2]


async def test_a_crash_between_publish_and_mark_publishes_again_with_the_same_change_id(
    runtime: DaprRuntime,
    events_settings: Settings,
    live_url: str,
    sessions: async_sessionmaker[RequestSession],
) -> None:
    await commit_engines(sessions, ["c1", "c2"])
    ids = [change[0] for change in await change_log(live_url)]
    # given a publisher that dies after the sidecar took the first event, before its mark commits
    runtime.holding = True
    first = publisher(sessions, events_settings)
    crashed = asyncio.create_task(first.publish_pending())
    await runtime.until(received=1)
    # (while it hangs holding the mark, another publisher finds the mark locked and sends nothing)
    waiting = publisher(sessions, events_settings)
    assert await waiting.publish_pending() == Pass(0, busy=True)
    await waiting.stop()
    assert len(runtime.received) == 1
    # (and writers do not wait for it: the mark's lock is not the registry's)
    await commit_engines(sessions, ["c3"])
    ids = [change[0] for change in await change_log(live_url)]
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    await first.stop()
    assert await marked(live_url) == 0
    # when another publisher starts
    runtime.holding = False
    second = publisher(sessions, events_settings)
    try:
        assert (await second.publish_pending()).published == 3
    finally:
        await second.stop()
    # then the first change was sent once more, same change id and CloudEvent id, then the others
    assert runtime.change_ids() == [ids[0], ids[0], ids[1], ids[2]]
    assert runtime.received[0].metadata["cloudevent.id"] == runtime.received[1].metadata["cloudevent.id"]
    assert await marked(live_url) == ids[2]


async def test_two_publishers_send_every_change_once_in_order(
    runtime: DaprRuntime, events_settings: Settings, live_url: str
) -> None:
    # given two processes' publishers (engines of their own), small batches, and 30 changes
    settings = events_settings.model_copy(update={"events_batch_size": 3})
    engines = [create_async_engine(live_url, pool_size=2) for _ in range(2)]
    publishers = [publisher(session_factory(engine), settings) for engine in engines]
    try:
        await commit_engines(session_factory(engines[0]), [f"d{n}" for n in range(30)])
        # when both run and are told at once
        for one in publishers:
            one.start()
            one.nudge()
        ids = [change[0] for change in await change_log(live_url)]
        await until_marked(live_url, ids[-1])
        # and both are told again, for nothing new
        for one in publishers:
            one.nudge()
        results = await asyncio.gather(*(one.publish_pending() for one in publishers))
    finally:
        for one in publishers:
            await one.stop()
        for engine in engines:
            await engine.dispose()
    # then each change was sent once, in change-log order
    assert [result.published for result in results] == [0, 0]
    assert runtime.change_ids() == ids
    assert len(ids) == 30


async def test_readiness_says_when_committed_changes_wait_to_be_published(
    runtime: DaprRuntime, events_settings: Settings, live_url: str
) -> None:
    # given a sidecar that is not ready, and two changes: one committed ten minutes ago
    runtime.ready = False
    connection = await asyncpg.connect(plain_dsn(live_url))
    try:
        for minutes in (10, 0):
            await connection.execute(
                "INSERT INTO change_log (registry_version, entity_kind, entity_id, operation, changed_fields,"
                " actor, changed_at) VALUES (1, 'Engine', 1, 'update', '{name}', 'test',"
                " now() - make_interval(mins => $1))",
                minutes,
            )
    finally:
        await connection.close()
    with serve(create_app(events_settings)) as live:
        async with httpx.AsyncClient(base_url=live.http) as client:
            response = await client.get("/readyz")
    # then /readyz is not ready, and says how far publishing got
    body = response.json()
    assert response.status_code == 503
    events = body["checks"]["events"]
    assert (events["publishedChangeId"], events["unpublished"]) == (0, 2)
    assert 599 < events["oldestUnpublishedSeconds"] < 900
    [problem] = [problem for problem in body["problems"] if problem.startswith("events:")]
    seconds = problem.removeprefix("events: a change committed ").split("s ago")[0]
    assert abs(int(seconds) - events["oldestUnpublishedSeconds"]) <= 1
    assert problem.endswith("ago is not published yet (is the Dapr sidecar or its pub/sub broker down?)")
    assert runtime.received == []


def test_readiness_has_no_events_check_when_events_are_off(live: LiveServer) -> None:
    body = httpx.get(f"{live.http}/readyz", timeout=10).json()
    assert "events" not in body["checks"]
