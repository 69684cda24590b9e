"""Benchmark: runtime-facing queries through budgraph vs. a hand-written SQL floor, both over HTTP.

Data: the real seed (engines, 361 architectures, parser rules, 1,031 cloud models, hardware) plus a
synthetic but realistic registry: 200 engine versions across the engines and devices, each serving a
random half of the architectures, and 5,000 registered models with architectures and licenses.

    make bench            # or: python -m bench.run [--requests 300]

Uses BUDGRAPH_BENCH_DATABASE_URL (an admin URL; a database `budgraph_bench` is created) or starts an
embedded PostgreSQL. Prints median latencies and the budgraph / floor ratio per query.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy import make_url

ROOT = Path(__file__).resolve().parents[1]

SCENARIOS = {
    "latest version": (
        '{ latestEngineVersion(engine: "vllm", deviceArchitecture: CUDA) { version containerImage } }',
        "/latest?engine=vllm&device=CUDA",
    ),
    "compatible versions": (
        '{ compatibleEngineVersions(model: "Qwen/Qwen2.5-7B-Instruct", architecture: "Qwen2ForCausalLM",'
        " deviceArchitecture: CUDA, first: 20) { nodes { engineVersion { version engine { slug } }"
        " containerImage toolCallParser reasoningParser supportsLora supportsPipelineParallelism } } }",
        "/compatible?architecture=Qwen2ForCausalLM&device=CUDA",
    ),
    "100 models + license + arch": (
        "{ models(first: 100) { nodes { uri parameterCount license { key } architecture { className family } } } }",
        "/models",
    ),
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _prepare(admin_url: str) -> str:
    url = make_url(admin_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    await connection.execute('DROP DATABASE IF EXISTS "budgraph_bench" WITH (FORCE)')
    await connection.execute('CREATE DATABASE "budgraph_bench"')
    await connection.close()
    return url.set(database="budgraph_bench").render_as_string(hide_password=False)


async def _grow(dsn: str) -> None:
    rng = random.Random(7)
    connection = await asyncpg.connect(dsn)
    try:
        engines = [r["id"] for r in await connection.fetch("SELECT id FROM engine ORDER BY slug")]
        archs = [r["id"] for r in await connection.fetch("SELECT id FROM model_architecture")]
        arch_names = [
            r["class_name"] for r in await connection.fetch("SELECT class_name FROM model_architecture")
        ]
        licenses = [r["id"] for r in await connection.fetch("SELECT id FROM license")]
        from budgraph.kit.versions import version_key

        for i in range(200):
            version = f"0.{i // 10}.{i % 10}"
            device = ["CUDA", "ROCM", "CPU", "HPU"][i % 4]
            engine = engines[i % len(engines)]
            exists = await connection.fetchval(
                "SELECT 1 FROM engine_version WHERE engine_id=$1 AND version=$2 AND device_architecture=$3",
                engine,
                version,
                device,
            )
            if exists:
                continue
            vid = await connection.fetchval(
                "INSERT INTO engine_version (engine_id, version, version_key, device_architecture, container_image,"
                " status, endpoints, features, tool_call_parsers, reasoning_parsers)"
                " VALUES ($1,$2,$3,$4,$5,'active','{CHAT}','{}','{hermes}','{qwen3}') RETURNING id",
                engine,
                version,
                version_key(version),
                device,
                f"example/img:{version}",
            )
            await connection.executemany(
                "INSERT INTO compatibility_edge (engine_version_id, architecture_id) VALUES ($1, $2)",
                [(vid, a) for a in rng.sample(archs, len(archs) // 2)],
            )
        await connection.executemany(
            "INSERT INTO model (uri, source_kind, architecture, license_id, parameter_count, modality, status)"
            " VALUES ($1, 'huggingface', $2, $3, $4, 'text', 'ready')",
            [
                (
                    f"org{i % 97}/model-{i}",
                    rng.choice(arch_names),
                    rng.choice(licenses),
                    rng.randint(10**8, 10**11),
                )
                for i in range(5000)
            ],
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


@contextmanager
def _server(args: list[str], env: dict[str, str], port: int) -> Iterator[str]:
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None:
                    raise SystemExit(f"{' '.join(args)} exited with {process.returncode}") from None
                time.sleep(0.1)
        else:
            raise SystemExit(f"{' '.join(args)} did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _time(client: httpx.Client, requests: int, send: object) -> float:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = send()  # type: ignore[operator]
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.text
    return statistics.median(samples[requests // 10 :]) * 1000


HOSTILE = {
    "7 nested connections": "{ "
    + "engineVersions { nodes { architectures { nodes { className " * 3
    + "engineVersions { nodes { version } }"
    + " } } } }" * 3
    + " }",
    "1,000 aliases": "{ " + " ".join(f"a{i}: engines {{ totalCount }}" for i in range(1000)) + " }",
    "121 KB of overlapping fields": "{ " + "engines { totalCount } " * 5200 + "}",
    "4,001 tokens": "{ " + "a " * 4001 + "}",
    "a 40-level nesting": "{ " + "engines { nodes { " * 20 + "slug" + " } }" * 20 + " }",
}


def _refusal_ms(client: httpx.Client, api: str, document: str, requests: int) -> float:
    samples = []
    for n in range(requests):
        text = f"# {n}\n{document}"  # a new text each time: the preparation cache cannot help
        start = time.perf_counter()
        response = client.post(api + "/graphql", json={"query": text})
        samples.append(time.perf_counter() - start)
        assert response.json()["errors"][0]["extensions"]["code"] in (
            "QUERY_LIMIT_EXCEEDED",
            "GRAPHQL_VALIDATION_FAILED",
        ), response.text[:300]
    return statistics.median(samples) * 1000


def _admission_ms(query: str, rounds: int = 2000) -> float:
    """The time the checks before execution take for ``query`` (document cached, as in steady state)."""
    from budgraph.graphql.context import Context
    from budgraph.graphql.execution import Executor, GraphQLRequest
    from budgraph.graphql.schema import schema
    from budgraph.settings import Settings

    settings = Settings()
    executor = Executor(schema, settings)
    context = Context(settings=settings, queue=None, sessions=None, store=None)  # type: ignore[arg-type]
    request = GraphQLRequest(query)

    async def measure() -> float:
        await executor.admit(context, request)  # warm the preparation cache
        start = time.perf_counter()
        for _ in range(rounds):
            await executor.admit(context, request)
        return (time.perf_counter() - start) / rounds * 1000

    return asyncio.run(measure())


def report_limits(client: httpx.Client, api: str, requests: int, latencies: dict[str, float]) -> None:
    """Issue 7's figures: how fast abusive documents are refused, and what the checks cost."""
    print(f"\n{'hostile document':<30} {'refused in ms':>14}")
    for name, document in HOSTILE.items():
        print(f"{name:<30} {_refusal_ms(client, api, document, max(20, requests // 10)):>14.2f}")
    print(f"\n{'query':<30} {'checks ms':>10} {'request ms':>11} {'overhead':>9}")
    for name, (query, _) in SCENARIOS.items():
        checks = _admission_ms(query)
        print(f"{name:<30} {checks:>10.3f} {latencies[name]:>11.2f} {checks / latencies[name]:>9.1%}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    admin = os.environ.get("BUDGRAPH_BENCH_DATABASE_URL") or os.environ.get("BUDGRAPH_TEST_DATABASE_URL")
    redis_url = os.environ.get("BUDGRAPH_BENCH_REDIS_URL") or os.environ.get("BUDGRAPH_TEST_REDIS_URL")
    embedded = None
    if not admin or not redis_url:
        from budgraph.kit.embedded import EmbeddedServices

        embedded = EmbeddedServices(ROOT / ".budgraph" / "bench")
        urls = embedded.start()
        admin, redis_url = admin or urls.database_url, redis_url or urls.redis_url
    try:
        url = asyncio.run(_prepare(admin))
        env = {
            **os.environ,
            "BUDGRAPH_DATABASE_URL": url,
            "BUDGRAPH_REDIS_URL": redis_url,
            # One client sends every request: the rate limit would measure itself.
            "BUDGRAPH_RATE_LIMIT_ANONYMOUS_BUDGET": str(2**31 - 1),
            "BUDGRAPH_RATE_LIMIT_REDIS_PREFIX": f"budgraph:bench:{os.getpid()}",
        }
        subprocess.run(
            [sys.executable, "-m", "budgraph", "migrate", "upgrade"], env=env, cwd=ROOT, check=True
        )
        subprocess.run(
            [sys.executable, "-m", "budgraph", "seed"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        asyncio.run(_grow(dsn))
        api_port, floor_port = _free_port(), _free_port()
        uvicorn = [sys.executable, "-m", "uvicorn", "--no-access-log", "--log-level", "warning"]
        with (
            _server(
                [*uvicorn, "--factory", "budgraph.app:create_app", "--port", str(api_port)], env, api_port
            ) as api,
            _server(
                [*uvicorn, "bench.floor_app:app", "--port", str(floor_port)],
                {**env, "BENCH_FLOOR_DSN": dsn},
                floor_port,
            ) as floor,
            httpx.Client() as client,
        ):
            print(f"{'query':<30} {'budgraph ms':>12} {'floor ms':>10} {'ratio':>7}")
            for name, (query, path) in SCENARIOS.items():

                def graph(q: str = query) -> httpx.Response:
                    return client.post(api + "/graphql", json={"query": q})

                def raw(p: str = path) -> httpx.Response:
                    return client.get(floor + p)

                body = graph().json()
                assert "errors" not in body, body
                ours = _time(client, options.requests, graph)
                base = _time(client, options.requests, raw)
                print(f"{name:<30} {ours:>12.2f} {base:>10.2f} {ours / base:>7.2f}")
            latencies = {
                name: _time(
                    client, options.requests, lambda q=query: client.post(api + "/graphql", json={"query": q})
                )
                for name, (query, _) in SCENARIOS.items()
            }
            report_limits(client, api, options.requests, latencies)
    finally:
        if embedded is not None:
            embedded.stop()


if __name__ == "__main__":
    main()
