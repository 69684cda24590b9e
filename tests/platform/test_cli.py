"""The `budgraph` command against a real database: seed, API keys, migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx

from tests.conftest import GraphQLClient

CREATE_ENGINE = 'mutation { createEngine(input: {slug: "cli-engine", name: "CLI"}) { slug } }'


def _budgraph(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUDGRAPH_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "budgraph", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_apikey_create_and_revoke(database_url: str, client: GraphQLClient) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = _budgraph(database_url, "apikey", "create", name, "--scope", "write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("bgk_")
    assert (await client.data(CREATE_ENGINE, token=key)) == {"createEngine": {"slug": "cli-engine"}}

    again = _budgraph(database_url, "apikey", "create", name)
    assert again.returncode == 1
    assert "already exists" in again.stderr

    revoked = _budgraph(database_url, "apikey", "revoke", name)
    assert revoked.returncode == 0, revoked.stderr
    response: httpx.Response = await client.post("{ registryVersion }", token=key)
    assert response.status_code == 401


def test_a_command_without_servers_starts_the_embedded_ones(embedded_dir: Path) -> None:
    """No BUDGRAPH_DATABASE_URL, no running `make dev`: the command starts the data dir's embedded
    servers for its own duration (and stops them), never "BUDGRAPH_DATABASE_URL is not set"."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGRAPH_")}
    env["BUDGRAPH_DATA_DIR"] = str(embedded_dir)
    result = subprocess.run(
        [sys.executable, "-m", "budgraph", "migrate", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"budgraph: embedded, started for this command, data in {embedded_dir}" in result.stderr
    assert "Running upgrade  -> 0001" in result.stderr
    assert not (embedded_dir / "servers.json").exists()  # stopped again


def test_env_example_check_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "budgraph", "export-env-example", "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip().endswith(".env.example is current")) == (0, True)


def test_leaderboards_refresh_refuses_unknown_sources(database_url: str) -> None:
    result = _budgraph(database_url, "leaderboards", "refresh", "nope")
    assert result.returncode == 2
    assert "unknown sources: nope" in result.stderr
