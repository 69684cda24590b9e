"""Extraction end to end: registerModel -> a real arq worker -> the facts in the graph."""

from __future__ import annotations

import json

from sqlalchemy import select

from budgraph import db
from budgraph.jobs.queue import ArqJobQueue
from budgraph.kit.db import RequestSession
from tests.conftest import GraphQLClient
from tests.extraction.hub_server import RunningServer
from tests.jobs.conftest import RunWorker

REGISTER = """
mutation ($uri: String!) { registerModel(input: {uri: $uri}) { model { id } job { id } } }
"""
MODEL = """
query ($id: ID!) {
  node(id: $id) { ... on Model {
    status architectureName modelType parameterCount activeParameterCount contextLength layers kvHeads headDim
    kvCacheBytesPerToken dtype license { key } licenseName modality extractedAt
    architecture { className family }
    factSources { field source }
    jobs { nodes { kind status progress step attempts error result } }
  } }
}
"""


async def _seed_registry(session: RequestSession) -> None:
    session.add(db.ModelArchitecture(class_name="LlamaForCausalLM", family="llama", supports_lora=True))
    session.add(
        db.License(
            key="apache-2.0",
            name="Apache 2.0",
            kind="permissive",
            commercial_use=True,
            aliases=["Apache-2.0", "Apache 2.0"],
        )
    )
    await session.commit()


async def test_register_extract_and_read_the_facts(
    session: RequestSession,
    client: GraphQLClient,
    writer_token: str,
    run_worker: RunWorker,
    hub: RunningServer,
    queue: ArqJobQueue,
) -> None:
    await _seed_registry(session)
    registered = (await client.data(REGISTER, {"uri": "budtest/tiny-llama"}, token=writer_token))[
        "registerModel"
    ]
    channel = (await queue.pool()).pubsub()
    await channel.psubscribe("budgraph:job:*")

    worker = await run_worker()
    assert (worker.jobs_complete, worker.jobs_failed, worker.jobs_retried) == (1, 0, 0)

    model = (await client.data(MODEL, {"id": registered["model"]["id"]}))["node"]
    assert model["status"] == "READY"
    assert model["architectureName"] == "LlamaForCausalLM"
    assert model["architecture"] == {"className": "LlamaForCausalLM", "family": "llama"}
    assert model["parameterCount"] == 106_816
    assert model["contextLength"] == 2048
    assert model["layers"] == 2
    assert model["kvHeads"] == 2
    assert model["headDim"] == 16
    assert model["modelType"] == "llama"
    assert model["kvCacheBytesPerToken"] == 256
    assert model["modality"] == "TEXT"
    sources = {item["field"]: item["source"] for item in model["factSources"]}
    assert "parameter_count" in sources
    assert sources["architecture"].startswith("config.json")
    job = model["jobs"]["nodes"][0]
    assert job["status"] == "SUCCEEDED"
    assert job["progress"] == 100
    assert job["attempts"] == 1
    assert job["result"]["parameter_count"] == 106_816
    # progress went out over Redis, step by step
    steps = []
    for _ in range(100):
        message = await channel.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            steps.append(json.loads(message["data"]))
        elif steps and steps[-1]["status"] == "succeeded":
            break
    await channel.aclose()
    assert steps[0]["status"] == "running"
    assert [s["progress"] for s in steps] == sorted(s["progress"] for s in steps)
    assert len(steps) >= 5
    assert steps[-1] | {"id": 0} == {
        "id": 0,
        "status": "succeeded",
        "progress": 100,
        "step": "done",
        "attempts": 1,
        "error": None,
    }
    # no weight bytes were downloaded: only header ranges of safetensors files
    weight_reads = [r for r in hub.state.requests if r.path.endswith(".safetensors") and r.method == "GET"]
    assert weight_reads
    assert all(r.range is not None for r in weight_reads)


async def test_transient_failures_are_retried(
    session: RequestSession,
    client: GraphQLClient,
    writer_token: str,
    run_worker: RunWorker,
    hub: RunningServer,
) -> None:
    await _seed_registry(session)
    registered = (await client.data(REGISTER, {"uri": "budtest/tiny-llama"}, token=writer_token))[
        "registerModel"
    ]
    hub.state.failures["/api/models/budtest/tiny-llama"] = 503
    failing = await run_worker()
    assert failing.jobs_failed == 0
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert job.status == "failed"
    assert job.attempts == 3
    assert "503" in (job.error or "") or "unavailable" in (job.error or "").lower()
    del registered


async def test_a_missing_repository_fails_permanently(
    session: RequestSession, client: GraphQLClient, writer_token: str, run_worker: RunWorker
) -> None:
    await client.data(REGISTER, {"uri": "budtest/no-such-model"}, token=writer_token)
    worker = await run_worker()
    assert worker.jobs_retried == 0
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert job.status == "failed"
    assert job.attempts == 1
    model = (await session.scalars(select(db.Model))).one()
    await session.refresh(model)
    assert model.status == "registered"
    assert model.parameter_count is None
