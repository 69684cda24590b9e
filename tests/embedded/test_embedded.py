"""Embedded PostgreSQL + Redis: data survives a restart, nothing is left running afterwards, other
processes find running servers, and one server can go down and come back at the same address."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import psutil  # type: ignore[import-untyped]
import pytest
import redis

import budgraph
from budgraph.kit.embedded import EmbeddedServiceError, EmbeddedServices, EmbeddedUrls, running_urls

pytestmark = pytest.mark.slow


def _query(urls: EmbeddedUrls, *statements: str) -> object:
    """Run the statements on the embedded database; returns the value of the last one."""

    async def run() -> object:
        connection = await asyncpg.connect(urls.database_url.replace("+asyncpg", "", 1))
        try:
            for statement in statements[:-1]:
                await connection.execute(statement)
            return await connection.fetchval(statements[-1])
        finally:
            await connection.close()

    return asyncio.run(run())


def _redis(urls: EmbeddedUrls) -> redis.Redis:
    return redis.Redis.from_url(urls.redis_url, decode_responses=True)


def _servers_under(folder: Path) -> list[psutil.Process]:
    """Live processes whose command line or working directory lies in folder (postgres chdirs to its
    data dir and redis to --dir, and both rewrite their process titles)."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            where = " ".join([*proc.cmdline(), proc.cwd()])
        except psutil.Error:
            continue
        if str(folder) in where and proc.pid != os.getpid():
            found.append(proc)
    return found


@pytest.fixture
def tmp_path(embedded_dir: Path) -> Iterator[Path]:
    """Embedded servers live outside pytest's temporary folders (see tests/conftest.py); a failing
    test must not leave servers behind (the tests assert there are none)."""
    yield embedded_dir
    for proc in _servers_under(embedded_dir):
        with contextlib.suppress(psutil.Error):
            proc.kill()


def test_restart_keeps_data_and_stops_everything(tmp_path: Path) -> None:
    services = EmbeddedServices(tmp_path)
    urls = services.start()
    assert services.start() is urls  # no double start
    assert urls.database_url.startswith("postgresql+asyncpg://")
    assert urls.redis_url.startswith("redis://127.0.0.1:")
    assert _query(urls, "select current_database()") == "budgraph"
    _query(urls, "create table kept (v text)", "insert into kept values ('pg')", "select 1")
    with _redis(urls) as client:
        client.set("kept", "redis")
    with pytest.raises(EmbeddedServiceError, match="in use"):
        EmbeddedServices(tmp_path).start()
    services.stop()
    services.stop()  # safe twice
    assert _servers_under(tmp_path) == []

    with services as again:  # the same object starts again
        assert _query(again.urls, "select v from kept") == "pg"
        with _redis(again.urls) as client:
            assert client.get("kept") == "redis"
    assert _servers_under(tmp_path) == []
    with pytest.raises(EmbeddedServiceError):
        _ = again.urls


KILLED_RUN = """
import os, sys, redis
from collections.abc import Iterator
from pathlib import Path
from budgraph.kit.embedded import EmbeddedServices
urls = EmbeddedServices(Path(sys.argv[1])).start()
with redis.Redis.from_url(urls.redis_url) as client:
    client.set("survivor", "yes")
os._exit(0)  # like SIGKILL: neither stop() nor atexit runs
"""


@pytest.mark.parametrize("kill_postgres", [False, True], ids=["orphans", "stale-pidfile"])
def test_recovers_from_a_killed_run(tmp_path: Path, kill_postgres: bool) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(budgraph.__file__).parent.parent)}
    subprocess.run([sys.executable, "-c", KILLED_RUN, str(tmp_path)], env=env, check=True, timeout=60)
    assert _servers_under(tmp_path)  # both servers outlived their parent
    if kill_postgres:  # leaves a postmaster.pid whose pid is dead (or a zombie)
        postmaster = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
        os.kill(postmaster, signal.SIGKILL)
        with contextlib.suppress(psutil.NoSuchProcess):  # gone, or a zombie nobody has reaped yet
            process = psutil.Process(postmaster)
            while process.status() != psutil.STATUS_ZOMBIE:
                time.sleep(0.01)

    with EmbeddedServices(tmp_path) as services:
        assert _query(services.urls, "select 1") == 1
        with _redis(services.urls) as client:
            assert client.get("survivor") == "yes"
    assert _servers_under(tmp_path) == []


def test_a_running_server_survives_pytest_narrowing_its_temporary_root(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Every pytest session starts by making /tmp/pytest-of-<user> private (0700). Run as root, the
    embedded PostgreSQL runs as the pgserver user and re-opens pg_control by its absolute path at each
    checkpoint: with its data under that folder, the checkpoint PANICs and the server dies."""
    pytest_root = tmp_path_factory.getbasetemp().parent
    mode = pytest_root.stat().st_mode
    with EmbeddedServices(tmp_path) as services:
        try:
            pytest_root.chmod(mode & ~0o077)  # what a parallel pytest session does
            assert _query(services.urls, "CHECKPOINT", "select 1") == 1
        finally:
            pytest_root.chmod(mode)


def test_other_processes_find_the_running_servers(tmp_path: Path) -> None:
    assert running_urls(tmp_path) is None
    with EmbeddedServices(tmp_path) as services:
        assert running_urls(tmp_path) == services.urls
        assert json.loads((tmp_path / "servers.json").read_text())["redis_url"] == services.urls.redis_url
    assert running_urls(tmp_path) is None
    assert not (tmp_path / "servers.json").exists()


def test_a_servers_file_left_by_a_killed_run_is_not_believed(tmp_path: Path) -> None:
    (tmp_path / "servers.json").write_text(
        '{"database_url": "postgresql://gone", "redis_url": "redis://gone"}'
    )
    (tmp_path / ".lock").touch()  # nobody holds it
    assert running_urls(tmp_path) is None


def test_each_server_goes_down_and_comes_back_at_the_same_address(tmp_path: Path) -> None:
    with EmbeddedServices(tmp_path) as services:
        urls = services.urls
        _query(urls, "create table kept (v text)", "insert into kept values ('pg')", "select 1")
        services.stop_postgres()
        with pytest.raises(FileNotFoundError):  # its socket is gone
            _query(urls, "select 1")
        services.start_postgres()
        assert _query(urls, "select v from kept") == "pg"

        with _redis(urls) as client:
            client.set("kept", "redis")
        services.stop_redis()
        with _redis(urls) as client, pytest.raises(redis.ConnectionError):
            client.ping()
        services.start_redis()
        assert services.urls == urls
        with _redis(urls) as client:
            assert client.get("kept") == "redis"
    assert _servers_under(tmp_path) == []
