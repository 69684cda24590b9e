"""Storage fixtures: a real S3-compatible server (moto's, as a subprocess on 127.0.0.1) and both stores."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from budgraph.storage import LocalObjectStore, MinioObjectStore, ObjectStore

READY_TIMEOUT = 30.0


@dataclass(frozen=True)
class S3Server:
    endpoint: str  # host:port, as MinioObjectStore takes it
    access_key: str = "budgraph-test"
    secret_key: str = "budgraph-test-secret"
    region: str = "us-east-1"

    def store(self, bucket: str) -> MinioObjectStore:
        return MinioObjectStore(
            self.endpoint, self.access_key, self.secret_key, bucket, secure=False, region=self.region
        )


def names_in(folder: Path) -> list[str]:
    """The sorted names in a folder (for assertions about leftovers)."""
    return sorted(path.name for path in folder.iterdir())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while process.poll() is None and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(
        f"moto server did not start (exit {process.poll()}):\n{log.read_text(errors='replace')}"
    )


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """``python -m moto.server`` on a free loopback port for the whole session."""
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(process, f"http://127.0.0.1:{port}/moto-api/", log)
        yield S3Server(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def minio_store(s3_server: S3Server) -> MinioObjectStore:
    """A store on a fresh bucket of its own."""
    store = s3_server.store(f"budgraph-{uuid.uuid4().hex[:12]}")
    await store.ensure_ready()
    return store


@pytest.fixture
async def local_store(tmp_path: Path) -> LocalObjectStore:
    store = LocalObjectStore(tmp_path / "objects-root")
    await store.ensure_ready()
    return store


@pytest.fixture(params=["local", pytest.param("minio", marks=pytest.mark.slow)])
def store(request: pytest.FixtureRequest) -> ObjectStore:
    """Each backend in turn, for the behaviour both must share."""
    backend: ObjectStore = request.getfixturevalue(f"{request.param}_store")
    return backend
