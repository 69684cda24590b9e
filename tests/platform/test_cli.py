"""The `budgraph` command against a real database: seed, API keys, migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

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


def test_commands_need_a_database_url() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUDGRAPH_")}
    result = subprocess.run(
        [sys.executable, "-m", "budgraph", "seed"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "BUDGRAPH_DATABASE_URL is not set" in result.stderr


def test_leaderboards_refresh_refuses_unknown_sources(database_url: str) -> None:
    result = _budgraph(database_url, "leaderboards", "refresh", "nope")
    assert result.returncode == 2
    assert "unknown sources: nope" in result.stderr
