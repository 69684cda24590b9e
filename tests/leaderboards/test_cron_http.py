"""The Dapr cron binding's routes over HTTP: probe, one job per ISO week, health, operator trigger;
and the refresh job run by a real arq worker."""

from __future__ import annotations

from sqlalchemy import func, select, update

from budgraph import db
from budgraph.auth.service import create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.clock import now
from budgraph.kit.db import RequestSession
from budgraph.leaderboards.schedule import week_key
from budgraph.leaderboards.sources import SOURCES
from budgraph.settings import Settings
from tests.conftest import GraphQLClient
from tests.jobs.conftest import RunWorker

CRON = "/leaderboard/extraction-cron"


async def test_dapr_probe_and_one_job_per_week(
    client: GraphQLClient, session: RequestSession, queue: ArqJobQueue
) -> None:
    assert (await client.http.options(CRON)).status_code == 200
    first = await client.http.post(CRON, json={})
    second = await client.http.post(CRON, json={})  # another replica's sidecar, or a retry
    assert first.status_code == second.status_code == 200
    assert first.json()["created"] is True
    assert second.json() == first.json() | {"created": False}
    assert first.json()["key"] == week_key(now())
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 1
    assert await (await queue.pool()).zcard(queue.queue_name) == 1

    # the week's refresh already ran: a late delivery in the same week runs nothing
    await session.execute(update(db.Job).values(status="succeeded"))
    await session.commit()
    third = await client.http.post(CRON, json={})
    assert third.json() | {"status": None} == first.json() | {"created": False, "status": None}
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 1


async def test_trigger_needs_a_write_key(
    client: GraphQLClient, writer_token: str, session: RequestSession
) -> None:
    assert (await client.http.post(f"{CRON}/trigger", json={})).status_code == 401
    reader = await create_key(session, "test-reader", ApiKeyScope.READ)
    await session.commit()
    forbidden = await client.http.post(
        f"{CRON}/trigger", json={}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert (forbidden.status_code, forbidden.json()) == (
        403,
        {"error": "an API key with the `write` scope is required", "code": "FORBIDDEN"},
    )
    auth = {"Authorization": f"Bearer {writer_token}"}
    bad = await client.http.post(f"{CRON}/trigger", json={"sources": ["nope"]}, headers=auth)
    assert (bad.status_code, bad.json()["code"]) == (400, "BAD_USER_INPUT")
    ok = await client.http.post(f"{CRON}/trigger", json={"sources": ["bfcl"], "force": True}, headers=auth)
    assert ok.status_code == 202
    assert ok.json()["key"] == "leaderboards:manual:bfcl:force"


async def test_a_bad_trigger_body_is_told_what_to_send(client: GraphQLClient, writer_token: str) -> None:
    example = 'send a JSON object such as {"sources": ["lmarena"], "force": true}, or nothing'
    cases = [
        (b"{not json", f"the body is not JSON: {example}", None),
        (b"\xff\xfe", f"the body is not JSON: {example}", None),
        (b'["bfcl"]', f"the body is not a JSON object: {example}", None),
        (b'{"source": "bfcl"}', f"unknown fields source: {example}", None),
        (b'{"force": "false"}', "`force` must be true or false", "force"),
        (b'{"sources": "bfcl"}', "`sources` must be a non-empty list of source keys", "sources"),
        (b'{"sources": []}', "`sources` must be a non-empty list of source keys", "sources"),
    ]
    auth = {"Authorization": f"Bearer {writer_token}", "Content-Type": "application/json"}
    for body, message, field in cases:
        reply = await client.http.post(f"{CRON}/trigger", content=body, headers=auth)
        expected = {"error": message, "code": "BAD_USER_INPUT"} | ({"field": field} if field else {})
        assert (reply.status_code, reply.json()) == (400, expected), body
    # an empty body refreshes every source, forced
    empty = await client.http.post(f"{CRON}/trigger", headers=auth)
    assert (empty.status_code, empty.json()["key"]) == (202, "leaderboards:manual:all:force")


async def test_the_refresh_job_and_the_health_view(
    client: GraphQLClient, run_worker: RunWorker, job_settings: Settings, session: RequestSession
) -> None:
    await client.http.post(CRON, json={})
    worker = await run_worker(job_settings.model_copy(update={"leaderboards_offline": True}))
    assert worker.jobs_complete == 1
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert job.status == "succeeded"
    assert job.result is not None
    assert {item["source"]: item["status"] for item in job.result["sources"]} == dict.fromkeys(
        SOURCES, "succeeded"
    )

    health = (await client.http.get(f"{CRON}/health")).json()
    assert health["status"] == "ok"
    assert health["failing_sources"] == []
    assert health["last_weekly_job"]["status"] == "succeeded"
    assert [row["source"] for row in health["sources"]] == sorted(SOURCES)
    assert all(row["last_status"] == "succeeded" and row["next_due_at"] for row in health["sources"])
