"""`budgraph dev` on a bare machine: embedded PostgreSQL and Redis come up, a query is answered, the
start says in a few lines what is up and where, other commands find its servers (running or
stopped), a signal shuts everything down, and no process is left behind."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from budgraph.leaderboards.sources import SOURCES

QUERY = '{ registryVersion engines(filter: {slugs: ["vllm"]}) { nodes { latestVersion(deviceArchitecture: CUDA) { version containerImage } } } }'
CREATE_ENGINE = 'mutation { createEngine(input: {slug: "dev-engine", name: "Dev"}) { slug } }'
# What a terminal gets from a quiet start: none of the libraries' start-up chatter.
CHATTER = ("initdb", "pgserver", "alembic", "Running upgrade", "Uvicorn running", "Starting worker")

pytestmark = pytest.mark.slow


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


def _bare_environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """A newcomer's environment: no BUDGRAPH_* variable but the data dir (and a port)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGRAPH_")}
    return {**env, "BUDGRAPH_DATA_DIR": str(data_dir), **extra}


def _ignore_sigint() -> None:
    # What a shell does to a command started in the background (`make dev &`, CI, nohup).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def budgraph(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "budgraph", *args],
        env=_bare_environment(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=data_dir.parent,
    )


@dataclass
class Dev:
    process: subprocess.Popen[bytes]
    url: str
    stdout: Path
    stderr: Path

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()


@contextmanager
def dev(data_dir: Path, logs: Path, stop: signal.Signals) -> Iterator[Dev]:
    port = _free_port()
    stdout, stderr = logs / "dev.out", logs / "dev.err"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "budgraph", "dev"],
            env=_bare_environment(data_dir, BUDGRAPH_PORT=str(port)),
            stdout=out,
            stderr=err,
            cwd=data_dir.parent,
            preexec_fn=_ignore_sigint,
        )
    running = Dev(process, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        deadline = time.monotonic() + 120
        while "budgraph dev: ready" not in stdout.read_text():
            assert process.poll() is None, running.output()
            assert time.monotonic() < deadline, running.output()
            time.sleep(0.2)
        yield running
    finally:
        process.send_signal(stop)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def test_dev_command_on_embedded_servers(embedded_dir: Path, tmp_path: Path) -> None:
    data_dir = embedded_dir / "data"
    with dev(data_dir, tmp_path, signal.SIGINT) as running:
        answer = httpx.post(f"{running.url}/graphql", json={"query": QUERY}, timeout=10).json()
        # one version for the seed, one per leaderboard source loaded from its sample (new benchmarks)
        assert answer["data"]["registryVersion"] == 1 + len(SOURCES)
        assert answer["data"]["engines"]["nodes"] == [
            # the highest seeded vLLM build for CUDA: the official image of 0.33.0 (engine_builds.json)
            {"latestVersion": {"version": "0.33.0", "containerImage": "vllm/vllm-openai:v0.33.0"}}
        ]
        # leaderboards were loaded from the recorded samples (a bare machine may be offline)
        health = httpx.get(f"{running.url}/leaderboard/extraction-cron/health", timeout=5).json()
        assert {row["last_status"] for row in health["sources"]} == {"succeeded"}
        assert _processes_mentioning(str(data_dir)), "embedded servers should be running"

        # the README's command, typed in another terminal, finds the running servers
        created = budgraph(data_dir, "apikey", "create", "ann", "--scope", "write")
        assert created.returncode == 0, created.stderr
        assert "of the running `make dev`" in created.stderr
        key = created.stdout.strip()
        answer = httpx.post(
            f"{running.url}/graphql",
            json={"query": CREATE_ENGINE},
            headers={"Authorization": f"Bearer {key}"},
            timeout=10,
        ).json()
        assert answer["data"] == {"createEngine": {"slug": "dev-engine"}}
        ready = httpx.get(f"{running.url}/readyz", timeout=10)
        assert (ready.status_code, ready.json()["problems"]) == (200, [])

    time.sleep(0.5)
    assert _processes_mentioning(str(data_dir)) == [], running.output()
    assert running.process.returncode == 0, running.output()
    lines = running.stdout.read_text().splitlines()
    assert lines[0] == "budgraph dev: starting"
    assert f"  servers      embedded PostgreSQL and Redis, data in {data_dir}" in lines
    assert f"  playground   {running.url}/graphql" in lines
    assert "budgraph dev: shutting down (SIGINT)" in lines
    assert lines[-1] == "budgraph dev: stopped"
    assert len(lines) <= 12, lines
    assert [part for part in CHATTER if part in running.output()] == []


def test_commands_use_the_servers_of_a_stopped_dev(embedded_dir: Path, tmp_path: Path) -> None:
    data_dir = embedded_dir / "data"
    with dev(data_dir, tmp_path, signal.SIGTERM):
        pass
    assert "budgraph dev: shutting down (SIGTERM)" in (tmp_path / "dev.out").read_text()
    assert _processes_mentioning(str(data_dir)) == []

    created = budgraph(data_dir, "apikey", "create", "bob")
    assert created.returncode == 0, created.stderr
    assert "embedded, started for this command" in created.stderr
    seeded = budgraph(data_dir, "seed")
    assert seeded.returncode == 0, seeded.stderr
    # the dev's registry: already seeded (nothing changes), at the version the dev left it
    assert seeded.stdout.strip() == f"registry version: {1 + len(SOURCES)}"
    revoked = budgraph(data_dir, "apikey", "revoke", "bob")  # the key made by the first command
    assert (revoked.returncode, revoked.stdout.strip()) == (0, "revoked bob"), revoked.stderr
    assert _processes_mentioning(str(data_dir)) == []
