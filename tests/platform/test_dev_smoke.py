"""`budgraph dev` on a bare machine: embedded PostgreSQL and Redis come up, a query is answered,
Ctrl-C shuts everything down and no process is left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from budgraph.leaderboards.sources import SOURCES

QUERY = '{ registryVersion engines(filter: {slugs: ["vllm"]}) { nodes { latestVersion(deviceArchitecture: CUDA) { version containerImage } } } }'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry.name}: {cmdline}")
    return found


@pytest.mark.slow
def test_dev_command_on_embedded_servers(tmp_path: Path) -> None:
    port = _free_port()
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGRAPH_")}
    env.update({"BUDGRAPH_DATA_DIR": str(data_dir), "BUDGRAPH_PORT": str(port)})
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "budgraph", "dev"], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 120
        answer = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": QUERY}, timeout=5)
                answer = response.json()
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert answer is not None, (tmp_path / "dev.log").read_text()
        # one version for the seed, one per leaderboard source loaded from its sample (new benchmarks)
        assert answer["data"]["registryVersion"] == 1 + len(SOURCES)
        # leaderboards were loaded from the recorded samples (a bare machine may be offline)
        health = httpx.get(f"http://127.0.0.1:{port}/leaderboard/extraction-cron/health", timeout=5).json()
        assert {row["last_status"] for row in health["sources"]} == {"succeeded"}
        assert answer["data"]["engines"]["nodes"] == [
            {"latestVersion": {"version": "0.8.0", "containerImage": "budstudio/vllm-cuda:0.8.0"}}
        ]
        assert _processes_mentioning(str(data_dir)), "embedded servers should be running"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        log.close()
    time.sleep(0.5)
    assert _processes_mentioning(str(data_dir)) == [], (tmp_path / "dev.log").read_text()
    assert "shutting down" in (tmp_path / "dev.log").read_text()
