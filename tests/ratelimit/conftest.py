"""Rate-limit fixtures: a clock the test moves, settings with small budgets, and Redis URLs that are
up, refusing, or a server of the test's own that it can stop and start."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from budgraph.settings import Settings
from tests.conftest import Servers

# The start of a window for every window length the tests use (a multiple of 60 and of 300).
WINDOW_START = 300.0 * 6_000_000


class FakeClock:
    """Wall-clock seconds that only move when the test says so."""

    def __init__(self, now: float = WINDOW_START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_url(servers: Servers) -> str:
    return servers.redis_url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def refusing_redis_url() -> str:
    """A Redis URL on which nothing listens: every connection is refused."""
    return f"redis://127.0.0.1:{free_port()}/0"


def limit_settings(**values: object) -> Settings:
    base: dict[str, object] = {
        "rate_limit_window_seconds": 60,
        "rate_limit_anonymous_budget": 100,
        "rate_limit_key_budget": 1_000,
        "rate_limit_request_cost": 1,
        "auth_failure_limit": 5,
        "auth_failure_window_seconds": 300,
    }
    return Settings(**{**base, **values})  # type: ignore[arg-type]


def _redis_server() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    from budgraph.kit.embedded import redis_server_executable

    return str(redis_server_executable())


@dataclass
class OwnRedis:
    """A redis-server of the test's own on a fixed port, to stop and start again."""

    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [_redis_server(), "--bind", "127.0.0.1", "--port", str(self.port), "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.folder)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(port=free_port(), folder=tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
