"""The `budgraph` command against a real database: seed, API keys, migrations."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.live import LiveServer, plain_dsn

CREATE_ENGINE = 'mutation { createEngine(input: {slug: "cli-engine", name: "CLI"}) { slug } }'


def _budgraph(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BUDGRAPH_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "budgraph", *args], env=env, capture_output=True, text=True, timeout=120
    )


async def test_apikey_create_and_revoke(live: LiveServer, live_url: str) -> None:
    # A served app (its transactions commit): a key's use must not hold a lock the CLI waits for.
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = _budgraph(live_url, "apikey", "create", name, "--scope", "write")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("bgk_")
    async with httpx.AsyncClient(base_url=live.http, timeout=30) as http:
        answer = await http.post("/graphql", json={"query": CREATE_ENGINE}, headers=_bearer(key))
        assert answer.json()["data"] == {"createEngine": {"slug": "cli-engine"}}

        again = _budgraph(live_url, "apikey", "create", name)
        assert again.returncode == 1
        assert "already exists" in again.stderr

        revoked = _budgraph(live_url, "apikey", "revoke", name)
        assert revoked.returncode == 0, revoked.stderr
        response = await http.post("/graphql", json={"query": "{ registryVersion }"}, headers=_bearer(key))
        assert response.status_code == 401
        assert _budgraph(live_url, "apikey", "revoke", name).returncode == 1


async def test_apikey_expiry_budgets_and_list(live: LiveServer, live_url: str) -> None:
    name = f"cli-{uuid.uuid4().hex[:8]}"
    created = _budgraph(
        live_url, "apikey", "create", name, "--scope", "read", "--expires-in", "90d", "--rate-limit", "700"
    )
    assert created.returncode == 0, created.stderr
    expires = datetime.fromisoformat(created.stderr.strip().removeprefix("expires at "))
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)

    assert (
        _budgraph(live_url, "apikey", "set-rate-limit", name, "1200").stdout.strip()
        == f"{name}: 1200 per 60 s"
    )
    listed = _budgraph(live_url, "apikey", "list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.strip().splitlines()
    assert header.split("\t") == ["NAME", "SCOPE", "STATUS", "EXPIRES (UTC)", "LAST USED (UTC)", "RATE LIMIT"]
    assert row.split("\t") == [
        name,
        "read",
        "active",
        expires.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        "-",
        "1200",
    ]
    reset = _budgraph(live_url, "apikey", "set-rate-limit", name, "default")
    assert reset.stdout.strip() == f"{name}: the default (200000) per 60 s"
    assert created.stdout.strip() not in listed.stdout

    events = await _events(live_url, name)
    assert [(kind, actor.startswith("cli")) for kind, actor in events] == [
        ("created", True),
        ("rate_limit_changed", True),
        ("rate_limit_changed", True),
    ]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["--expires-in", "90"],
            1,
            "a lifetime is a whole number and a unit: m, h, d or w, e.g. `90d` (got '90')",
        ),
        (
            ["--expires-in", "0d"],
            1,
            "a lifetime is a whole number and a unit: m, h, d or w, e.g. `90d` (got '0d')",
        ),
        (["--expires-in", "11000d"], 1, "a lifetime is at most ten years (got '11000d')"),
        (
            ["--rate-limit", "0"],
            1,
            "a rate limit is a query-cost budget per window from 1 to 2147483647 (got 0)",
        ),
    ],
)
def test_apikey_create_refuses_bad_options(live_url: str, args: list[str], code: int, message: str) -> None:
    result = _budgraph(live_url, "apikey", "create", f"cli-{uuid.uuid4().hex[:8]}", *args)
    assert result.returncode == code
    assert result.stderr.startswith(message)
    assert result.stdout == ""


def test_apikey_set_rate_limit_refuses_bad_limits(live_url: str) -> None:
    word = _budgraph(live_url, "apikey", "set-rate-limit", "someone", "lots")
    assert (word.returncode, word.stderr.strip()) == (
        2,
        "the limit is a whole number or `default` (got 'lots')",
    )
    missing = _budgraph(live_url, "apikey", "set-rate-limit", "nobody", "10")
    assert (missing.returncode, missing.stderr.strip()) == (1, "no API key named 'nobody'")


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def _events(url: str, name: str) -> list[tuple[str, str]]:
    connection = await asyncpg.connect(plain_dsn(url))
    try:
        rows = await connection.fetch(
            "SELECT e.kind, e.actor FROM api_key_event e JOIN api_key k ON k.id = e.api_key_id"
            " WHERE k.name = $1 ORDER BY e.id",
            name,
        )
    finally:
        await connection.close()
    return [(row["kind"], row["actor"]) for row in rows]


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
