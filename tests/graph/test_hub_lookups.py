"""compatibleEngineVersions(model:) for a Hub id nobody registered yet: read from its config.json on a
local Hub, cached in Redis, the model then registered for extraction; every failure a typed error."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from ipaddress import ip_address
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq.jobs import Job as ArqJob
from arq.jobs import JobStatus as ArqStatus
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph import db
from budgraph.app import create_app
from budgraph.extraction.errors import ExtractionFailed
from budgraph.jobs.queue import ArqJobQueue, arq_job_id
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.models.hub_lookup import HubLookups
from budgraph.settings import Settings
from tests import factories
from tests.conftest import GraphQLClient, Servers
from tests.extraction import builders
from tests.extraction.hub_server import RunningServer, hub_server
from tests.live import serve

COMPATIBLE = """
query ($model: String!, $device: DeviceArchitecture) {
  compatibleEngineVersions(model: $model, deviceArchitecture: $device) {
    nodes { engineVersion { version deviceArchitecture engine { slug } } architecture { className } }
  }
}
"""
COMPATIBLE_COUNTED = """
query ($model: String!) {
  compatibleEngineVersions(model: $model) { totalCount nodes { engineVersion { version } } }
}
"""


@pytest.fixture(scope="module")
def lookup_repos(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lookup-repos")
    huge = root / "huge-config"
    huge.mkdir()
    (huge / "config.json").write_text(json.dumps(builders.llama_config(padding="x" * 4096)))
    broken = root / "broken-config"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    return {
        "budtest/tiny-llama": builders.write_llama(root / "llama"),
        "budtest/tiny-mixtral": builders.write_mixtral(root / "mixtral"),
        "budtest/huge-config": huge,
        "budtest/broken-config": broken,
    }


@pytest.fixture
def hub(lookup_repos: dict[str, Path]) -> Iterator[RunningServer]:
    with hub_server() as server:
        for repo_id, folder in lookup_repos.items():
            server.state.add_repo(repo_id, folder)
        server.state.add_repo("budtest/gated-llama", lookup_repos["budtest/tiny-llama"], gated="manual")
        yield server


def _lookup_settings(servers: Servers, endpoint: str, **overrides: Any) -> dict[str, Any]:
    run = uuid.uuid4().hex
    return {
        "hub_lookups": True,
        "hf_endpoint": endpoint,
        "hf_endpoint_allow_private": True,  # the local Hub is on loopback
        "redis_url": servers.redis_url,
        "hub_lookup_redis_prefix": f"budgraph:test:{run}:hub-lookup",
        "rate_limit_redis_prefix": f"budgraph:test:{run}:ratelimit",
        "hub_lookup_max_config_bytes": 1024,
        **overrides,
    }


@pytest.fixture
async def lookups_client(client_with: Any, servers: Servers, hub: RunningServer) -> GraphQLClient:
    client: GraphQLClient = await client_with(**_lookup_settings(servers, hub.url))
    return client


@pytest.fixture
async def redis(servers: Servers) -> Any:
    connection = Redis.from_url(servers.redis_url)
    yield connection
    await connection.aclose()


async def _engines(session: RequestSession) -> None:
    await _seed(session)
    await session.commit()


async def _seed(session: RequestSession) -> None:
    vllm = await factories.engine(session, "vllm")
    llama = await factories.architecture(session, "LlamaForCausalLM", family="llama")
    mixtral = await factories.architecture(session, "MixtralForCausalLM", family="mixtral")
    cuda = await factories.version(session, vllm, "0.8.0")
    rocm = await factories.version(session, vllm, "0.9.0", device="ROCM")
    moe = await factories.version(session, vllm, "0.10.0")
    for version, arch in ((cuda, llama), (rocm, llama), (moe, mixtral)):
        await factories.edge(session, version, arch)


def _hub_paths(hub: RunningServer) -> list[tuple[str, str]]:
    return [(request.method, request.path) for request in hub.state.requests]


async def _errors(client: GraphQLClient, model: str) -> list[dict[str, Any]]:
    body = await client.execute(COMPATIBLE, {"model": model})
    assert body["data"] is None
    return [{"code": e["extensions"]["code"], "field": e["extensions"].get("field")} for e in body["errors"]]


async def test_an_unregistered_hub_id_is_answered_from_its_config_and_recorded(
    session: RequestSession, lookups_client: GraphQLClient, hub: RunningServer, queue: ArqJobQueue
) -> None:
    await _engines(session)

    data = await lookups_client.data(COMPATIBLE, {"model": "budtest/tiny-llama", "device": "CUDA"})

    assert data["compatibleEngineVersions"]["nodes"] == [
        {
            "engineVersion": {"version": "0.8.0", "deviceArchitecture": "CUDA", "engine": {"slug": "vllm"}},
            "architecture": {"className": "LlamaForCausalLM"},
        }
    ]
    sha = hub.state.repos["budtest/tiny-llama"].sha
    info = ("GET", "/api/models/budtest/tiny-llama/revision/main")
    assert info in _hub_paths(hub)
    files = {path.rpartition("/")[2] for _, path in _hub_paths(hub) if f"/resolve/{sha}/" in path}
    assert files == {"config.json", "model.safetensors.index.json"}  # no weights, no shard header

    model = await session.scalar(select(db.Model).where(db.Model.uri == "budtest/tiny-llama"))
    assert model is not None
    assert (model.source_kind, model.status, model.revision, model.architecture) == (
        "huggingface",
        "registered",
        "main",
        None,  # the extraction job fills the facts in
    )
    job = await session.scalar(select(db.Job).where(db.Job.model_id == model.id))
    assert job is not None
    assert (job.kind, job.status, job.requested_by) == ("extract", "queued", "anonymous")
    arq_id = arq_job_id(job.dedupe_key, job.id, queue.job_id_prefix)
    status = await ArqJob(arq_id, await queue.pool(), _queue_name=queue.queue_name).status()
    assert status is ArqStatus.queued

    # Asked again (in another casing): the registered row and the cached shape, no Hub request.
    hub.state.requests.clear()
    again = await lookups_client.data(COMPATIBLE, {"model": "BudTest/Tiny-Llama", "device": "ROCM"})
    assert [n["engineVersion"]["version"] for n in again["compatibleEngineVersions"]["nodes"]] == ["0.9.0"]
    counted = await lookups_client.data(COMPATIBLE_COUNTED, {"model": "budtest/tiny-llama"})
    assert counted["compatibleEngineVersions"]["totalCount"] == 2
    assert hub.state.requests == []
    assert len((await session.scalars(select(db.Job))).all()) == 1
    assert await (await queue.pool()).zcard(queue.queue_name) == 1


async def test_the_shape_read_from_the_hub(
    servers: Servers, hub: RunningServer, redis: Any, settings: Settings
) -> None:
    lookup_settings = settings.model_copy(update=_lookup_settings(servers, hub.url))
    lookups = HubLookups(lookup_settings, redis)

    llama = await lookups.shape("budtest/tiny-llama", "main", "test")
    mixtral = await lookups.shape("budtest/tiny-mixtral", "main", "test")

    assert (llama.uri, llama.registered, llama.architecture) == (
        "budtest/tiny-llama",
        False,
        "LlamaForCausalLM",
    )
    assert (llama.layers, llama.attention_heads, llama.kv_heads, llama.head_dim) == (2, 4, 2, 16)
    assert (llama.context_length, llama.dtype, llama.kv_cache_bytes_per_token) == (2048, "float16", 256)
    index = json.loads(
        (hub.state.repos["budtest/tiny-llama"].folder / "model.safetensors.index.json").read_text()
    )
    total = index["metadata"]["total_size"]
    assert (llama.weight_bytes, llama.parameter_count) == (total, total // 2)  # estimated from the index
    assert llama.source_of("weight_bytes") == "model.safetensors.index.json:metadata.total_size"
    assert llama.source_of("kv_heads") == "config.json:num_key_value_heads"
    # A single checkpoint: its header read, the count exact.
    assert (mixtral.parameter_count, mixtral.active_parameter_count) == (
        builders.MIXTRAL_PARAMETERS,
        builders.MIXTRAL_ACTIVE_PARAMETERS,
    )
    assert (mixtral.experts_total, mixtral.experts_active) == (4, 2)
    assert mixtral.source_of("parameter_count") == "model.safetensors header"
    assert lookups.hub_reads == 2

    # Another API process shares the answers through Redis.
    hub.state.requests.clear()
    other = HubLookups(lookup_settings, redis)
    assert await other.shape("BUDTEST/tiny-mixtral", "main", "test") == mixtral
    assert (other.hub_reads, hub.state.requests) == (0, [])
    lookups.close()
    other.close()


async def test_concurrent_lookups_of_one_id_share_one_read(
    servers: Servers, hub: RunningServer, redis: Any, settings: Settings
) -> None:
    lookups = HubLookups(
        settings.model_copy(update=_lookup_settings(servers, hub.url, hub_lookup_limit=1)), redis
    )
    hub.state.delays["/api/models/"] = 0.3  # the first is still reading when the others ask
    shapes = await asyncio.gather(
        *(lookups.shape("budtest/tiny-llama", "main", "one-client") for _ in range(5))
    )
    assert {shape.architecture for shape in shapes} == {"LlamaForCausalLM"}
    assert lookups.hub_reads == 1  # and one charge: a limit of one was enough
    assert [r.path for r in hub.state.requests if r.path.startswith("/api/")] == [
        "/api/models/budtest/tiny-llama/revision/main"
    ]
    lookups.close()


def _resolving_to(address: str) -> Any:
    def resolve(host: str, port: int) -> list[Any]:
        if host != "hub.example":
            raise ExtractionFailed(f"cannot resolve host {host}")
        return [ip_address(address)]

    return resolve


async def test_the_endpoint_is_checked_by_the_addresses_its_name_resolves_to(
    servers: Servers, hub: RunningServer, redis: Any, settings: Settings
) -> None:
    named = settings.model_copy(
        update=_lookup_settings(servers, "http://hub.example:8080", hf_endpoint_allow_private=False)
    )
    internal = HubLookups(named, redis, resolver=_resolving_to("10.1.2.3"))
    with pytest.raises(BudgraphError) as refused:
        await internal.shape("budtest/tiny-llama", "main", "test")
    assert refused.value.extensions == {"code": "SOURCE_UNAVAILABLE", "field": "model"}
    assert "private address 10.1.2.3" in refused.value.message

    unresolvable = settings.model_copy(
        update=_lookup_settings(servers, "http://nowhere.example", hf_endpoint_allow_private=False)
    )
    lost = HubLookups(unresolvable, redis, resolver=_resolving_to("10.1.2.3"))
    for _ in range(2):  # a transient failure: never remembered, asked again
        with pytest.raises(BudgraphError) as unavailable:
            await lost.shape("budtest/tiny-llama", "main", "test")
        assert unavailable.value.extensions == {"code": "SOURCE_UNAVAILABLE", "field": "model"}
    assert (internal.hub_reads, lost.hub_reads, hub.state.requests) == (1, 2, [])
    internal.close()
    lost.close()


async def test_a_repository_the_hub_does_not_have_is_not_found_and_remembered_briefly(
    session: RequestSession, lookups_client: GraphQLClient, hub: RunningServer
) -> None:
    await _engines(session)
    assert await _errors(lookups_client, "budtest/no-such-model") == [{"code": "NOT_FOUND", "field": "model"}]
    assert await _errors(lookups_client, "budtest/gated-llama") == [{"code": "NOT_FOUND", "field": "model"}]
    hub.state.requests.clear()
    assert await _errors(lookups_client, "budtest/no-such-model") == [{"code": "NOT_FOUND", "field": "model"}]
    assert hub.state.requests == []  # the negative answer is cached
    assert (await session.scalars(select(db.Model))).all() == []


async def test_an_unreachable_hub_is_a_typed_error_and_not_remembered(
    session: RequestSession, client_with: Any, servers: Servers, hub: RunningServer
) -> None:
    await _engines(session)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    prefix = f"budgraph:test:{uuid.uuid4().hex}:hub-lookup"
    down = await client_with(**_lookup_settings(servers, closed, hub_lookup_redis_prefix=prefix))
    assert await _errors(down, "budtest/tiny-llama") == [{"code": "SOURCE_UNAVAILABLE", "field": "model"}]

    # A Hub that accepts but does not answer in time: the lookup's deadline ends it.
    hub.state.delays["/api/models/"] = 5.0
    slow = await client_with(
        **_lookup_settings(servers, hub.url, hub_lookup_redis_prefix=prefix, hub_lookup_timeout_seconds=0.5)
    )
    assert await _errors(slow, "budtest/tiny-llama") == [{"code": "SOURCE_UNAVAILABLE", "field": "model"}]

    # Nothing was remembered: once the Hub answers, so does the lookup.
    hub.state.delays.clear()
    back = await client_with(**_lookup_settings(servers, hub.url, hub_lookup_redis_prefix=prefix))
    data = await back.data(COMPATIBLE, {"model": "budtest/tiny-llama", "device": "CUDA"})
    assert [n["engineVersion"]["version"] for n in data["compatibleEngineVersions"]["nodes"]] == ["0.8.0"]


async def test_a_hub_endpoint_on_a_private_address_is_refused(
    session: RequestSession, client_with: Any, servers: Servers, hub: RunningServer
) -> None:
    await _engines(session)
    guarded = await client_with(**_lookup_settings(servers, hub.url, hf_endpoint_allow_private=False))
    body = await guarded.execute(COMPATIBLE, {"model": "budtest/tiny-llama"})
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SOURCE_UNAVAILABLE"]
    assert "loopback address 127.0.0.1" in body["errors"][0]["message"]
    assert hub.state.requests == []
    assert (await session.scalars(select(db.Model))).all() == []


@pytest.mark.parametrize("model", ["not a repo id", "org/name/extra", "org/na--me", "https://example.com/x"])
async def test_an_id_that_is_no_hub_id_is_refused_before_any_request(
    session: RequestSession, lookups_client: GraphQLClient, hub: RunningServer, model: str
) -> None:
    assert await _errors(lookups_client, model) == [{"code": "BAD_USER_INPUT", "field": "model"}]
    assert hub.state.requests == []


async def test_a_config_too_large_or_not_json_is_a_typed_error(
    session: RequestSession, lookups_client: GraphQLClient, hub: RunningServer
) -> None:
    await _engines(session)
    unreadable = [{"code": "SOURCE_UNREADABLE", "field": "model"}]
    assert await _errors(lookups_client, "budtest/huge-config") == unreadable
    assert (
        "GET",
        f"/budtest/huge-config/resolve/{hub.state.repos['budtest/huge-config'].sha}/config.json",
    ) not in (_hub_paths(hub))  # refused by the listed size, never downloaded
    assert await _errors(lookups_client, "budtest/broken-config") == unreadable
    assert (await session.scalars(select(db.Model))).all() == []


async def test_a_client_causes_a_limited_number_of_hub_lookups(
    session: RequestSession, client_with: Any, servers: Servers, hub: RunningServer
) -> None:
    await _engines(session)
    limited = await client_with(**_lookup_settings(servers, hub.url, hub_lookup_limit=1))
    await limited.data(COMPATIBLE, {"model": "budtest/tiny-llama"})
    assert await _errors(limited, "budtest/tiny-mixtral") == [{"code": "RATE_LIMITED", "field": "model"}]
    # What is registered or cached costs no lookup.
    await limited.data(COMPATIBLE, {"model": "budtest/tiny-llama"})


async def test_a_registered_model_is_answered_from_its_row(
    session: RequestSession, lookups_client: GraphQLClient, hub: RunningServer
) -> None:
    await _engines(session)
    await factories.model(session, "budtest/tiny-mixtral", architecture="LlamaForCausalLM", status="ready")
    await session.commit()
    data = await lookups_client.data(COMPATIBLE, {"model": "budtest/tiny-mixtral", "device": "CUDA"})
    assert [n["architecture"]["className"] for n in data["compatibleEngineVersions"]["nodes"]] == [
        "LlamaForCausalLM"
    ]
    assert hub.state.requests == []


async def test_lookups_off_leave_an_unregistered_id_not_found(
    session: RequestSession, client: GraphQLClient, hub: RunningServer
) -> None:
    assert await _errors(client, "budtest/tiny-llama") == [{"code": "NOT_FOUND", "field": "model"}]
    assert hub.state.requests == []


async def test_served_with_direct_answers_and_the_response_cache(
    live_settings: Settings, live_url: str, servers: Servers, hub: RunningServer
) -> None:
    """The production path: the direct answer finds no row and hands over to the executor, which
    runs in a REPEATABLE READ snapshot (a cacheable answer); the model is recorded all the same."""
    engine = create_async_engine(live_url, pool_size=1)
    sessions = async_sessionmaker(engine, class_=RequestSession)
    async with UnitOfWork(sessions, actor="test") as uow:
        await _seed(uow.session)
    overrides = _lookup_settings(servers, hub.url) | {"response_cache": True, "direct_answers": True}
    settings = live_settings.model_copy(update=overrides)
    body = {"query": COMPATIBLE, "variables": {"model": "budtest/tiny-llama", "device": "CUDA"}}
    expected = [
        {
            "engineVersion": {"version": "0.8.0", "deviceArchitecture": "CUDA", "engine": {"slug": "vllm"}},
            "architecture": {"className": "LlamaForCausalLM"},
        }
    ]
    try:
        # a job id prefix of its own: a job key another test left in this Redis cannot block the enqueue
        queue = ArqJobQueue(servers.redis_url, settings.queue_name, job_id_prefix=f"{settings.queue_name}:")
        with serve(create_app(settings, queue=queue)) as server:
            executor = server.app.state.executor
            async with httpx.AsyncClient(base_url=server.http, timeout=30) as http:
                first = (await http.post("/graphql", json=body)).json()
                assert first["data"]["compatibleEngineVersions"]["nodes"] == expected
                async with sessions() as session:
                    model = await session.scalar(select(db.Model))
                    assert model is not None
                    assert (model.uri, model.status) == (
                        "budtest/tiny-llama",
                        "registered",
                    )
                    job = await session.scalar(select(db.Job))
                    assert job is not None
                    assert (job.model_id, job.status) == (model.id, "queued")
                queued = Redis.from_url(servers.redis_url)
                try:
                    assert await queued.zcard(settings.queue_name) == 1
                finally:  # leave no job key behind
                    arq_id = arq_job_id(job.dedupe_key, job.id, queue.job_id_prefix)
                    await queued.delete(settings.queue_name, f"arq:job:{arq_id}")
                    await queued.aclose()

                hub.state.requests.clear()
                second = (await http.post("/graphql", json=body)).json()
                assert second["data"]["compatibleEngineVersions"]["nodes"] == expected
                assert hub.state.requests == []

                # Once extraction has filled the row in, the direct answer serves it.
                async with UnitOfWork(sessions, actor="test") as uow:
                    extracted = await uow.session.scalar(select(db.Model))
                    assert extracted is not None
                    extracted.architecture, extracted.status = "LlamaForCausalLM", "ready"
                before = executor.answered_directly
                third = (await http.post("/graphql", json=body)).json()
                assert third["data"]["compatibleEngineVersions"]["nodes"] == expected
                assert executor.answered_directly == before + 1
                assert hub.state.requests == []
    finally:
        await engine.dispose()


PLANS = """
query ($model: String!) {
  deploymentPlans(model: $model, hardware: "test-gpu", contextLength: 1024) {
    quantization fits devices weightsBytes weightsExact kvCacheBytesPerToken
  }
}
"""


async def test_deployment_plans_for_an_unregistered_hub_id_read_its_config_and_record_it(
    session: RequestSession, lookups_client: GraphQLClient, hub: RunningServer
) -> None:
    await _seed(session)
    await factories.hardware(
        session, "test-gpu", memory_gb=16, memory_bandwidth_gbps=1000, compute_capability="9.0"
    )
    await session.commit()

    # a bad argument, or an unknown SKU, is refused before the Hub is asked anything
    for bad in ("deploymentPlans(model: $model, hardware: \"test-gpu\", devices: 0)",
                "deploymentPlans(model: $model, hardware: \"no-such-sku\")"):  # fmt: skip
        refused = await lookups_client.execute(
            f"query ($model: String!) {{ {bad} {{ fits }} }}", {"model": "budtest/tiny-llama"}
        )
        assert [e["extensions"]["code"] for e in refused["errors"]] in (["BAD_USER_INPUT"], ["NOT_FOUND"])
    assert hub.state.requests == []

    plans = (await lookups_client.data(PLANS, {"model": "budtest/tiny-llama"}))["deploymentPlans"]

    # the exact bytes of the index's total_size; 2 x layers x KV heads x head_dim x 2 bytes (float16)
    layers, kv_heads = builders.LLAMA["layers"], builders.LLAMA["kv_heads"]
    # (the index counts every tensor of the files, write_llama's float32 rotary inv_freq buffer too)
    inv_freq = builders.LLAMA_HEAD_DIM // 2 * 4
    weights = sum(array.nbytes for array in builders.llama_tensors().values()) + inv_freq
    assert plans == [
        {
            "quantization": None,
            "fits": True,
            "devices": 1,
            "weightsBytes": weights,
            "weightsExact": True,
            "kvCacheBytesPerToken": 2 * layers * kv_heads * builders.LLAMA_HEAD_DIM * 2,
        }
    ]
    recorded = await session.scalar(select(db.Model).where(db.Model.uri == "budtest/tiny-llama"))
    assert recorded is not None
    # only metadata was read: the config and the safetensors index, never a weight file
    assert {path.rsplit("/", 1)[-1] for _, path in _hub_paths(hub) if "/resolve/" in path} == {
        "config.json",
        "model.safetensors.index.json",
    }
