"""The Dapr cron binding's routes over HTTP: probe, one job per ISO week, health, operator trigger;
and the refresh job run by a real arq worker."""

from __future__ import annotations

from typing import Any

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


DAPR_TOKEN = "sidecar-app-token-for-tests"
SIDECAR = {"dapr-api-token": DAPR_TOKEN}


async def test_only_the_sidecar_or_a_write_key_may_fire_the_cron(
    client_with: Any, session: RequestSession, writer_token: str
) -> None:
    from budgraph.auth.service import create_key
    from budgraph.db.enums import ApiKeyScope

    reader = await create_key(session, "cron-reader", ApiKeyScope.READ)
    await session.commit()
    client = await client_with(dapr_app_api_token=DAPR_TOKEN)
    anonymous = await client.http.post(CRON, json={})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "UNAUTHENTICATED")
    wrong = await client.http.post(CRON, json={}, headers={"dapr-api-token": "guessed"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "UNAUTHENTICATED")
    read_only = await client.http.post(CRON, json={}, headers={"Authorization": f"Bearer {reader}"})
    assert (read_only.status_code, read_only.json()["code"]) == (403, "FORBIDDEN")
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 0

    sidecar = await client.http.post(CRON, json={}, headers=SIDECAR)
    assert sidecar.status_code == 200
    job = (await session.scalars(select(db.Job))).one()
    assert job.requested_by == "dapr:cron"
    by_operator = await client.http.post(CRON, json={}, headers={"Authorization": f"Bearer {writer_token}"})
    assert by_operator.json() == sidecar.json() | {"created": False}


async def test_dapr_probe_and_one_job_per_week(
    client_with: Any, session: RequestSession, queue: ArqJobQueue
) -> None:
    client = await client_with(dapr_app_api_token=DAPR_TOKEN)
    assert (await client.http.options(CRON)).status_code == 200
    first = await client.http.post(CRON, json={}, headers=SIDECAR)
    second = await client.http.post(CRON, json={}, headers=SIDECAR)  # another replica's sidecar, or a retry
    assert first.status_code == second.status_code == 200
    assert first.json()["created"] is True
    assert second.json() == first.json() | {"created": False}
    assert first.json()["key"] == week_key(now())
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 1
    assert await (await queue.pool()).zcard(queue.queue_name) == 1

    # the week's refresh already ran: a late delivery in the same week runs nothing
    await session.execute(update(db.Job).values(status="succeeded"))
    await session.commit()
    third = await client.http.post(CRON, json={}, headers=SIDECAR)
    assert third.json() | {"status": None} == first.json() | {"created": False, "status": None}
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 1


async def test_trigger_needs_a_write_key(
    client: GraphQLClient, writer_token: str, session: RequestSession
) -> None:
    reader = await create_key(session, "trigger-reader", ApiKeyScope.READ)
    await session.commit()
    assert (await client.http.post(f"{CRON}/trigger", json={})).status_code == 401
    forbidden = await client.http.post(
        f"{CRON}/trigger", json={}, headers={"Authorization": f"Bearer {reader}"}
    )
    assert (forbidden.status_code, forbidden.json()["code"]) == (403, "FORBIDDEN")
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
    client_with: Any, run_worker: RunWorker, job_settings: Settings, session: RequestSession
) -> None:
    client = await client_with(dapr_app_api_token=DAPR_TOKEN)
    await client.http.post(CRON, json={}, headers=SIDECAR)
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
