"""`budgraph dev`: the whole stack in one process, on embedded servers unless configured.

It says in a few lines what is up and where, and keeps the libraries' start-up chatter (initdb,
Alembic, arq, uvicorn's access log) out of the terminal unless ``--verbose``. It handles SIGINT and
SIGTERM itself rather than through uvicorn, whose re-raised signal does nothing where SIGINT was
inherited as ignored (a background job, CI, nohup): the API and the worker stop, then the embedded
servers, and "shutting down" is always said.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from types import FrameType
from typing import TYPE_CHECKING

import uvicorn

from budgraph.kit.servers import Servers, servers
from budgraph.settings import Settings

if TYPE_CHECKING:
    from budgraph.leaderboards.refresh import SourceOutcome

log = logging.getLogger("budgraph.dev")
QUIET = ("alembic", "arq", "uvicorn", "budgraph.embedded", "budgraph.seeds", "pgserver")
# arq logs each job run at INFO: worth seeing in dev. Its start-up lines and the reconciler's runs
# (every minute, mostly with nothing to do) are not; the reconciler logs what it requeues itself.
ARQ_ROUTINE = ("Starting worker for", "redis_version=", "cron:reconcile_jobs")


class _ArqRoutine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not any(part in message for part in ARQ_ROUTINE)


def _say(label: str, text: str) -> None:
    log.info("  %-13s%s", label, text)


def configure_logging(verbose: bool) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    detailed = logging.StreamHandler(sys.stderr)
    detailed.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(detailed)
    root.setLevel(logging.INFO)
    if not verbose:
        for name in QUIET:
            logging.getLogger(name).setLevel(logging.WARNING)
        arq_worker = logging.getLogger("arq.worker")
        arq_worker.setLevel(logging.INFO)
        arq_worker.addFilter(_ArqRoutine())
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(message)s"))
    log.handlers[:] = [console]
    log.propagate = False
    log.setLevel(logging.INFO)


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # `budgraph dev` handles SIGINT and SIGTERM itself (see _serve_and_work)


async def _serve_and_work(settings: Settings, verbose: bool) -> str:
    """Serve the API and run a worker until a signal (or either of them ends); returns why it stopped."""
    from budgraph.app import create_app
    from budgraph.server import uvicorn_config
    from workers.main import create_worker

    config = uvicorn_config(
        create_app(settings), settings, log_level="info" if verbose else "warning", access_log=verbose
    )
    server = _Server(config)
    worker = create_worker(settings, handle_signals=False)
    reason = ""

    def stop(why: str) -> None:
        nonlocal reason
        if server.should_exit:
            server.force_exit = True  # a second Ctrl-C: do not wait for open connections
        reason = reason or why
        server.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, signum.name)
    worker_task = asyncio.create_task(worker.async_run())

    def worker_ended(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("the worker stopped: %s: %s", type(task.exception()).__name__, task.exception())
            stop("the worker stopped")

    worker_task.add_done_callback(worker_ended)
    serving = asyncio.create_task(server.serve())
    while not server.started and not serving.done():  # uvicorn offers no event to wait on
        await asyncio.wait({serving}, timeout=0.05)
    if server.started:
        url = f"http://{settings.host}:{settings.port}"
        _say("playground", f"{url}/graphql")
        _say("health", f"{url}/healthz (liveness), {url}/readyz (readiness)")
        log.info("budgraph dev: ready; Ctrl-C stops the API, the worker and the embedded servers")
    try:
        await serving
    except SystemExit:  # uvicorn exits when it cannot listen; it has logged why
        reason = reason or f"could not serve on {settings.host}:{settings.port}"
    finally:
        log.info("budgraph dev: shutting down (%s)", reason or "the API stopped")
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        worker_task.remove_done_callback(worker_ended)
        worker_task.cancel()
        await asyncio.gather(worker_task, return_exceptions=True)
        await worker.close()
    return reason


def _describe(used: Servers) -> str:
    if not used.embedded:
        return "configured PostgreSQL and Redis (BUDGRAPH_DATABASE_URL / BUDGRAPH_REDIS_URL)"
    return f"embedded PostgreSQL and Redis, data in {used.settings.data_dir.expanduser().resolve()}"


def _leaderboards_summary(outcomes: list[SourceOutcome]) -> str:
    by_status: dict[str, list[str]] = {}
    for outcome in outcomes:
        by_status.setdefault(outcome.status, []).append(outcome.source)
    parts = [f"{len(by_status.pop('succeeded', []))} sources loaded from their recorded samples"]
    if waiting := by_status.pop("not_due", []) + by_status.pop("unchanged", []):
        parts.append(f"{len(waiting)} not due (read again 7 days after their last start)")
    parts += [f"{status}: {', '.join(sources)}" for status, sources in sorted(by_status.items())]
    return "; ".join(parts)


def _prepare(settings: Settings) -> None:
    from budgraph.cli import refresh_leaderboards_now, registry_version_now, seed_now
    from budgraph.kit.migrate import upgrade

    assert settings.database_url is not None
    upgrade(settings.database_url)
    seeded = asyncio.run(seed_now(settings))
    _say("database", f"migrated; seed: {seeded.summary()}")
    if settings.leaderboards_offline:
        # Leaderboards from the recorded samples on first start (later starts: only the sources
        # that are due, by the 7-day rule). Online, the weekly job fetches them.
        outcomes = asyncio.run(refresh_leaderboards_now(settings, None, False))
        _say("leaderboards", _leaderboards_summary(outcomes))
    _say("registry", f"version {asyncio.run(registry_version_now(settings))}")


def run_dev(settings: Settings, verbose: bool = False) -> int:
    """Run until stopped; returns the exit code."""
    configure_logging(verbose)
    # Until the loop takes them over: both signals interrupt the start-up (also where SIGINT was
    # inherited as ignored), and the embedded servers are stopped on the way out.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    log.info("budgraph dev: starting")
    reason = ""
    try:
        with servers(settings, join=False) as used:
            settings = used.settings
            if used.embedded and "BUDGRAPH_LEADERBOARDS_OFFLINE" not in os.environ:
                # A bare machine may be offline: show leaderboards from the recorded samples.
                os.environ["BUDGRAPH_LEADERBOARDS_OFFLINE"] = "true"
                settings = settings.model_copy(update={"leaderboards_offline": True})
            _say("servers", _describe(used))
            _prepare(settings)
            _say("worker", f"on queue {settings.queue_name}")
            reason = asyncio.run(_serve_and_work(settings, verbose))
    except KeyboardInterrupt as interrupt:
        log.info("budgraph dev: shutting down (%s)", interrupt.args[0] if interrupt.args else "interrupted")
        reason = "interrupted"
    log.info("budgraph dev: stopped")
    return 0 if reason in ("SIGINT", "SIGTERM", "interrupted") else 1
