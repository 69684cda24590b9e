"""Registering models and starting jobs: rows first, enqueued after commit, deduped, cancellable."""

from __future__ import annotations

from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus as ArqStatus
from sqlalchemy import func, select

from budgraph import db
from budgraph.jobs.queue import ArqJobQueue, arq_job_id
from budgraph.kit.db import RequestSession
from budgraph.kit.ids import from_global_id, to_global_id
from tests import factories
from tests.conftest import GraphQLClient

REGISTER = """
mutation ($input: RegisterModelInput!) {
  registerModel(input: $input) {
    model { id uri sourceKind revision status author }
    job { id kind status progress step target requestedBy }
  }
}
"""
CANCEL = "mutation ($id: ID!) { cancelJob(id: $id) { status step } }"
SCAN = "mutation ($id: ID!) { scanModel(id: $id) { kind status target } }"
JOBS = """
query ($model: ID!) { jobs(filter: {modelIds: [$model], statuses: [QUEUED]}) { totalCount nodes { kind } }
                       node(id: $model) { ... on Model { jobs { totalCount nodes { kind status } } } } }
"""


async def _arq_status(queue: ArqJobQueue, arq_id: str) -> ArqStatus:
    return await ArqJob(arq_id, await queue.pool(), _queue_name=queue.queue_name).status()


async def test_register_creates_model_and_enqueues_after_commit(
    session: RequestSession, client: GraphQLClient, writer_token: str, queue: ArqJobQueue
) -> None:
    variables = {"input": {"uri": "Qwen/Qwen2.5-0.5B-Instruct"}}
    data = (await client.data(REGISTER, variables, token=writer_token))["registerModel"]
    assert data["model"] | {"id": None} == {
        "id": None,
        "uri": "Qwen/Qwen2.5-0.5B-Instruct",
        "sourceKind": "HUGGINGFACE",
        "revision": "main",
        "status": "REGISTERED",
        "author": "Qwen",
    }
    assert data["job"] | {"id": None} == {
        "id": None,
        "kind": "EXTRACT",
        "status": "QUEUED",
        "progress": 0,
        "step": "queued",
        "target": "Qwen/Qwen2.5-0.5B-Instruct@main",
        "requestedBy": "test-writer",
    }
    _, model_pk = from_global_id(data["model"]["id"])
    _, job_pk = from_global_id(data["job"]["id"])
    arq_id = arq_job_id(f"extract:{model_pk}:main", job_pk, queue.job_id_prefix)
    assert await _arq_status(queue, arq_id) == ArqStatus.queued

    # the same model and revision again, while the job is queued: the same job, nothing new enqueued
    again = (await client.data(REGISTER, variables, token=writer_token))["registerModel"]
    assert again["job"]["id"] == data["job"]["id"]
    assert await session.scalar(select(func.count()).select_from(db.Job)) == 1
    assert await (await queue.pool()).zcard(queue.queue_name) == 1

    # another revision is another job
    other = {"input": {"uri": "Qwen/Qwen2.5-0.5B-Instruct", "revision": "v1.1"}}
    third = (await client.data(REGISTER, other, token=writer_token))["registerModel"]
    assert third["job"]["id"] != data["job"]["id"]
    assert third["model"]["id"] == data["model"]["id"]
    assert third["model"]["revision"] == "v1.1"


async def test_a_hub_id_in_another_casing_is_the_same_model(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    first = await client.data(REGISTER, {"input": {"uri": "Qwen/Qwen2.5-7B-Instruct"}}, token=writer_token)
    again = await client.data(REGISTER, {"input": {"uri": "qwen/qwen2.5-7b-instruct"}}, token=writer_token)

    assert again["registerModel"] == first["registerModel"]  # the model as first registered, the same job
    assert first["registerModel"]["model"]["uri"] == "Qwen/Qwen2.5-7B-Instruct"
    assert await session.scalar(select(func.count()).select_from(db.Model)) == 1
    # an uploaded model of that name is another source: a model of its own
    upload = await factories.model(session, "qwen/qwen2.5-7b-instruct", source_kind="upload")
    assert upload.id != from_global_id(first["registerModel"]["model"]["id"])[1]


async def test_a_failed_request_enqueues_nothing(
    client: GraphQLClient, writer_token: str, queue: ArqJobQueue, session: RequestSession
) -> None:
    both = """
    mutation {
      a: registerModel(input: {uri: "org/good-model"}) { job { id } }
      b: registerModel(input: {uri: "not a repo id"}) { job { id } }
    }
    """
    body = await client.execute(both, token=writer_token)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert await session.scalar(select(func.count()).select_from(db.Model)) == 0
    assert await (await queue.pool()).zcard(queue.queue_name) == 0


async def test_registration_input_is_checked(client: GraphQLClient, writer_token: str) -> None:
    cases = [
        {"uri": "../../etc/passwd"},
        {"uri": "org/model", "revision": "../main"},
        {"uri": "file:///etc/passwd", "source": "URL"},
        {"uri": "org/model", "source": "CLOUD"},
    ]
    for case in cases:
        assert await client.error_codes(REGISTER, {"input": case}, token=writer_token) == [
            "BAD_USER_INPUT"
        ], case
    assert await client.error_codes(REGISTER, {"input": {"uri": "org/model"}}) == ["UNAUTHENTICATED"]


async def test_cancel_and_list_jobs(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    data = (await client.data(REGISTER, {"input": {"uri": "org/model"}}, token=writer_token))["registerModel"]
    model_id, job_id = data["model"]["id"], data["job"]["id"]
    scan = (await client.data(SCAN, {"id": model_id}, token=writer_token))["scanModel"]
    assert scan == {"kind": "SCAN", "status": "QUEUED", "target": "org/model@main"}
    listed = await client.data(JOBS, {"model": model_id})
    assert listed["jobs"]["totalCount"] == 2
    assert listed["node"]["jobs"]["nodes"] == [
        {"kind": "SCAN", "status": "QUEUED"},
        {"kind": "EXTRACT", "status": "QUEUED"},
    ]

    assert (await client.data(CANCEL, {"id": job_id}, token=writer_token)) == {
        "cancelJob": {"status": "CANCELLED", "step": "cancelled"}
    }
    assert await client.error_codes(CANCEL, {"id": job_id}, token=writer_token) == ["BAD_USER_INPUT"]
    assert await client.error_codes(CANCEL, {"id": to_global_id("Job", 999999)}, token=writer_token) == [
        "NOT_FOUND"
    ]
    # once cancelled, a new extraction can be requested
    again = (await client.data(REGISTER, {"input": {"uri": "org/model"}}, token=writer_token))[
        "registerModel"
    ]
    assert again["job"]["id"] != job_id


async def test_cloud_models_cannot_be_scanned(
    session: RequestSession, client: GraphQLClient, writer_token: str
) -> None:
    model = await factories.model(session, "openai/gpt-4o", source_kind="cloud")
    await session.commit()
    codes = await client.error_codes(SCAN, {"id": to_global_id("Model", model.id)}, token=writer_token)
    assert codes == ["BAD_USER_INPUT"]
