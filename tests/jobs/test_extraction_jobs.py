"""Extraction end to end: registerModel -> a real arq worker -> the facts in the graph."""

from __future__ import annotations

import json
from pathlib import Path

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
MODEL_FIELDS = '{ __type(name: "Model") { fields { name } } }'


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
    await channel.psubscribe(f"{queue.queue_name}:job:*")  # this test's queue only

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
    assert sources["parameterCount"] == "model.safetensors.index.json + headers"
    assert sources["architectureName"].startswith("config.json")
    assert sources["contextLength"] == "config.json:max_position_embeddings"
    # every fact is named by a field of Model, as the schema spells it
    fields = (await client.data(MODEL_FIELDS))["__type"]["fields"]
    assert set(sources) <= {field["name"] for field in fields}
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


FAILED_MODELS = """
query ($statuses: [ModelStatus!]) {
  models(filter: {statuses: $statuses}) { nodes { uri status extractionError extractedAt } }
}
"""
EXTRACT = "mutation ($id: ID!) { extractModel(id: $id) { id } }"


async def test_a_failed_extraction_makes_the_model_failed_with_the_reason(
    session: RequestSession,
    client: GraphQLClient,
    writer_token: str,
    run_worker: RunWorker,
    hub: RunningServer,
    tiny_llama: Path,
) -> None:
    registered = await client.data(REGISTER, {"uri": "budtest/no-such-model"}, token=writer_token)
    worker = await run_worker()
    assert worker.jobs_retried == 0
    job = (await session.scalars(select(db.Job))).one()
    await session.refresh(job)
    assert (job.status, job.attempts) == ("failed", 1)
    reason = "model budtest/no-such-model: repository not found (or private and the token has no access)"
    assert job.error == reason

    # the model says so, with the reason, and a filter by status finds it
    failed = {
        "uri": "budtest/no-such-model",
        "status": "FAILED",
        "extractionError": reason,
        "extractedAt": None,
    }
    assert (await client.data(FAILED_MODELS, {"statuses": ["FAILED"]}))["models"]["nodes"] == [failed]
    assert (await client.data(FAILED_MODELS, {"statuses": ["REGISTERED", "READY"]}))["models"]["nodes"] == []

    # once the repository exists, a new extraction succeeds and the reason is gone
    hub.state.add_repo("budtest/no-such-model", tiny_llama)
    await client.data(EXTRACT, {"id": registered["registerModel"]["model"]["id"]}, token=writer_token)
    await run_worker()
    ready = (await client.data(FAILED_MODELS, {"statuses": ["READY"]}))["models"]["nodes"]
    assert [(m["uri"], m["extractionError"]) for m in ready] == [("budtest/no-such-model", None)]
    model = (await session.scalars(select(db.Model))).one()
    await session.refresh(model)
    assert model.parameter_count == 106_816
