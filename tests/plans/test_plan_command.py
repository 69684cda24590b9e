"""`budgraph plan MODEL --hardware SKU`: the plans of `deploymentPlans` as a table, run as a
newcomer runs it (a subprocess against a registry), with one clear line for a bad argument."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from budgraph.kit.db import RequestSession
from tests.plans.test_deployment_plans import given_registry


def _plan(url: str, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "budgraph", "plan", *arguments],
        env={**os.environ, "BUDGRAPH_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_the_plan_command_prints_the_plans_and_their_refusals(live_url: str) -> None:
    engine = create_async_engine(live_url, pool_size=1)
    try:
        async with async_sessionmaker(engine, class_=RequestSession)() as session:
            await given_registry(session)
    finally:
        await engine.dispose()

    done = _plan(
        live_url, "meta-llama/Llama-3.1-70B-Instruct", "--hardware", "nvidia-h100-sxm5-80gb",
        "--engine", "vllm", "--devices", "2", "--context-length", "8192", "--concurrency", "8",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "meta-llama/Llama-3.1-70B-Instruct on nvidia-h100-sxm5-80gb: 8,192 tokens x 8 sequences, at most 2 devices"
    )
    assert lines[1].split() == [
        "engine", "version", "quantization", "fits", "devices", "weights", "KV/device", "free/device",
        "decode", "tok/s", "prefill", "tok/s", "$/hour", "$/M", "out",
    ]  # fmt: skip
    # one row per quantization, cheapest fitting first; the refusal's reason under its row
    assert [line.split()[3:8] for line in lines[2:5]] == [
        ["awq", "yes", "1", "(1x1)", "38.2"],
        ["fp8", "yes", "2", "(2x1)", "71.6"],
        ["as", "stored", "no", "2", "(2x1)"],
    ]
    assert lines[2].endswith("3.5 USD (runpod us-east-1)    2.1652")
    assert lines[5] == (
        "    - 141.1 GB of weights on 2 x 80.0 GB NVIDIA H100 SXM5 with 10% reserve leave 1.4 GB per device for"
        " the KV cache; 8,192 tokens x 8 sequences need 10.7 GB per device"
    )

    unknown = _plan(live_url, "nobody/nothing", "--hardware", "nvidia-h100-sxm5-80gb")
    assert (unknown.returncode, unknown.stderr.strip().splitlines()[-1]) == (
        1,
        "budgraph plan: no registered model 'nobody/nothing'",
    )
    assert "Traceback" not in unknown.stderr
