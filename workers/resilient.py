"""arq's worker, made to outlive Redis outages, with a heartbeat readiness can see.

arq's poll loop (``Worker.main``) lets any Redis error out of it: the worker's main task ends. Under
``budgraph worker`` the process exits; inside ``make dev`` the task dies unobserved while the API
keeps serving, so no job and no cron (the reconciler) ever runs again. Here a Redis error in one
round of the loop is logged once, the loop waits and tries again (redis-py opens a new connection on
the next command), and when Redis answers again the reconciler runs at once to put back what the
outage lost. ``start_jobs`` is arq's own, except that a Redis error between taking a job slot and
starting the job gives the slot back (arq's leaks it, and after ``max_jobs`` outages the worker
never starts another job).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from arq.constants import in_progress_key_prefix
from arq.utils import timestamp_ms
from arq.worker import Worker
from redis.exceptions import RedisError, ResponseError, WatchError

from budgraph.health import heartbeats

log = logging.getLogger("budgraph.workers")

REDIS_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError, asyncio.TimeoutError)
RETRY_DELAY_SECONDS = 1.0
AfterOutage = Callable[[dict[str, Any]], Awaitable[object]]


class ResilientWorker(Worker):
    def __init__(
        self,
        *args: Any,
        heartbeat_seconds: float = 5.0,
        after_outage: AfterOutage | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.worker_id = heartbeats.new_worker_id()
        self.heartbeat_seconds = heartbeat_seconds
        self.after_outage = after_outage
        self.polled_at = time.time()
        self.redis_down_since: float | None = None
        self._beating: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[object]] = set()

    async def main(self) -> None:
        self._beating = asyncio.create_task(self._beat())
        try:
            await super().main()
        finally:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except REDIS_ERRORS as error:
            if self.redis_down_since is None:
                self.redis_down_since = time.monotonic()
                log.warning("Redis is unreachable (%s: %s); retrying", type(error).__name__, error)
            await asyncio.sleep(RETRY_DELAY_SECONDS)
            return
        self.polled_at = time.time()
        if self.redis_down_since is not None:
            log.warning("Redis is back after %.1fs", time.monotonic() - self.redis_down_since)
            self.redis_down_since = None
            if self.after_outage is not None:
                self._in_background(self.after_outage(self.ctx))

    def _in_background(self, work: Awaitable[object]) -> None:
        async def run() -> object:
            try:
                return await work
            except Exception:
                log.exception("recovery after a Redis outage failed; the next reconciler run retries")
                return None

        task = asyncio.create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _beat(self) -> None:
        while True:
            beat = heartbeats.Heartbeat(
                self.worker_id,
                beat_at=time.time(),
                polled_at=self.polled_at,
                running=sum(not task.done() for task in self.tasks.values()),
                max_jobs=self.max_jobs,
            )
            with contextlib.suppress(*REDIS_ERRORS):  # the poll loop reports an outage
                await heartbeats.record(self.pool, self.queue_name, beat)
            await asyncio.sleep(self.heartbeat_seconds)

    async def close(self) -> None:
        if self._pool is not None:
            with contextlib.suppress(*REDIS_ERRORS):
                await heartbeats.forget(self.pool, self.queue_name, self.worker_id)
        try:
            await super().close()
        except REDIS_ERRORS as error:  # stopping while Redis is down: nothing more to tell it
            log.warning("worker closed without Redis (%s)", error)
            self._pool = None

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        """arq's ``start_jobs``, giving the job slot back when Redis fails before the job starts."""
        for job_id_b in job_ids:
            await self.sem.acquire()
            if self.job_counter >= self.max_jobs:
                self.sem.release()
                return None
            self.job_counter = self.job_counter + 1
            started = False
            try:
                started = await self._start_job(job_id_b.decode())
            finally:
                if not started:
                    self.job_counter = self.job_counter - 1
                    self.sem.release()
        return None

    async def _start_job(self, job_id: str) -> bool:
        in_progress_key = in_progress_key_prefix + job_id
        async with self.pool.pipeline(transaction=True) as pipe:
            await pipe.watch(in_progress_key)
            ongoing_exists = await pipe.exists(in_progress_key)
            score = await pipe.zscore(self.queue_name, job_id)
            if ongoing_exists or not score or score > timestamp_ms():
                return False  # started elsewhere, finished, or deferred again by another worker
            pipe.multi()  # type: ignore[no-untyped-call]
            pipe.psetex(in_progress_key, int(self.in_progress_timeout_s * 1000), b"1")
            try:
                await pipe.execute()
            except (ResponseError, WatchError):
                return False  # another worker started it since
        task = self.loop.create_task(self.run_job(job_id, int(score)))
        task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
        self.tasks[job_id] = task
        return True
