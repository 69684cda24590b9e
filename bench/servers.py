"""The servers under test, each one process on a free port: budgraph (response cache off, and a
second "cached" row with it on), PostGraphile and the floor, all on the same database.

budgraph runs as it is deployed (`python -m budgraph serve`, one worker, no access log) with the
rate limiter out of the way: one load generator sends every request, and the limiter would
otherwise measure itself.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import make_url

from bench import postgraphile
from bench.data import ROOT, Probe
from bench.scenarios import Scenario

SERVERS = ["budgraph", "budgraph-cached", "postgraphile", "floor"]
POOL_SIZE = 10


@dataclass(frozen=True)
class Target:
    """What to POST where for one scenario on one server."""

    url: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Running:
    name: str
    base: str

    def target(self, scenario: Scenario, probe: Probe) -> Target:
        if self.name == "postgraphile":
            body = {"query": scenario.postgraphile, "variables": scenario.postgraphile_variables(probe)}
            return Target(f"{self.base}/graphql", body)
        body = {"query": scenario.document, "variables": scenario.variables(probe)}
        if self.name == "floor":
            return Target(f"{self.base}/{scenario.key}", body)
        return Target(f"{self.base}/graphql", body)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def via(url: str, port: int | None) -> str:
    """``url`` pointed at the counting proxy on ``port`` (or unchanged)."""
    if port is None:
        return url
    proxied = make_url(url).set(host="127.0.0.1", port=port).difference_update_query(["host"])
    return proxied.render_as_string(hide_password=False)


def _command(
    name: str, url: str, dsn: str, redis_url: str, port: int
) -> tuple[list[str], dict[str, str], Any]:
    env = {**os.environ}
    if name.startswith("budgraph"):
        env |= {
            "BUDGRAPH_DATABASE_URL": url,
            "BUDGRAPH_REDIS_URL": redis_url,
            "BUDGRAPH_API_WORKERS": "1",
            "BUDGRAPH_ACCESS_LOG": "false",
            "BUDGRAPH_DB_POOL_SIZE": str(POOL_SIZE),
            "BUDGRAPH_RESPONSE_CACHE": "true" if name == "budgraph-cached" else "false",
            "BUDGRAPH_RATE_LIMIT_ANONYMOUS_BUDGET": str(2**31 - 1),
            "BUDGRAPH_RATE_LIMIT_REDIS_PREFIX": f"budgraph:bench:{os.getpid()}:ratelimit",
            "BUDGRAPH_RESPONSE_CACHE_TTL_SECONDS": "600",
        }
        args = [sys.executable, "-m", "budgraph", "serve", "--host", "127.0.0.1", "--port", str(port)]
        return args, env, ROOT
    if name == "postgraphile":
        env |= {"NODE_ENV": "production"}
        return postgraphile.command(dsn, port, POOL_SIZE), env, postgraphile.HERE
    if name == "floor":
        env |= {"BENCH_FLOOR_DSN": dsn, "BENCH_FLOOR_POOL": str(POOL_SIZE)}
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "bench.floor_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        return args, env, ROOT
    raise ValueError(f"unknown server {name!r}; known: {', '.join(SERVERS)}")


@contextmanager
def running(
    name: str, url: str, dsn: str, redis_url: str, proxy_port: int | None = None
) -> Iterator[Running]:
    """Server ``name`` on the database (through the counting proxy when ``proxy_port`` is given)."""
    port = free_port()
    args, env, cwd = _command(name, via(url, proxy_port), via(dsn, proxy_port), redis_url, port)
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    log = open(ROOT / "bench" / "results" / f".{name}.log", "ab")  # noqa: SIM115 (closed below)
    process = subprocess.Popen(args, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.HTTPError:
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited with {process.returncode}; see {log.name}") from None
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not start in 90 s; see {log.name}") from None
                time.sleep(0.2)
        yield Running(name, base)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
