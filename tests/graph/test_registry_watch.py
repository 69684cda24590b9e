"""The registry watch: one poll per process tells every waiting subscription that the registry moved.

Given a watch over a version read the test controls, when several callers wait for the registry to
move past the position they hold, then one poller reads for all of them, a read that is not past
them wakes none, the first read past them wakes all of them, a read that fails is tried again, a
caller already ahead of the watch's last read waits for a fresh one, and the poller stops when
nobody waits.
"""

from __future__ import annotations

import asyncio

from budgraph.registry.repository import RegistryPosition
from budgraph.registry.watch import RegistryWatch


class Versions:
    """A version read that answers what the test gives it, one answer per read."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[RegistryPosition | OSError] = asyncio.Queue()
        self.reads = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def read(self) -> RegistryPosition:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            answer = await self.answers.get()
        finally:
            self.in_flight -= 1
        self.reads += 1
        if isinstance(answer, OSError):
            raise answer
        return answer

    async def read_once_more(self) -> None:
        """Wait until the poller asks again (it has taken every answer given so far)."""
        for _ in range(100_000):
            if self.answers.empty() and self.in_flight:
                return
            await asyncio.sleep(0)
        raise AssertionError("the watch stopped reading the version")


def at(version: int, epoch: str = "e1") -> RegistryPosition:
    return RegistryPosition(version=version, epoch=epoch)


async def test_one_poller_wakes_every_waiter_once_the_registry_moves_past_them() -> None:
    versions = Versions()
    watch = RegistryWatch(versions.read, interval=0.001)
    waiters = [asyncio.create_task(watch.moved(at(5))) for _ in range(10)]
    await versions.read_once_more()
    assert (watch.waiting, watch.polling) == (10, True)

    for answer in (at(4), at(5), OSError("the registry is down")):
        versions.answers.put_nowait(answer)
        await versions.read_once_more()
        assert not any(waiter.done() for waiter in waiters)
    versions.answers.put_nowait(at(7))
    assert await asyncio.gather(*waiters) == [at(7)] * 10
    assert versions.most_in_flight == 1
    assert versions.reads == 4
    assert watch.waiting == 0

    # Nobody waits: the poller ends after its read in flight.
    versions.answers.put_nowait(at(7))
    for _ in range(10_000):
        if not watch.polling:
            break
        await asyncio.sleep(0.001)
    assert not watch.polling
    assert versions.in_flight == 0


async def test_a_caller_ahead_of_the_last_read_waits_for_a_fresh_one() -> None:
    versions = Versions()
    watch = RegistryWatch(versions.read, interval=0.001)
    first = asyncio.create_task(watch.moved(at(1)))
    versions.answers.put_nowait(at(3))
    assert await first == at(3)
    # The registry was reset since that read; a caller that read the new epoch itself is not woken by
    # the old read (which names another epoch), nor by a fresh read that is not past it.
    ahead = asyncio.create_task(watch.moved(at(1, "e2")))
    await versions.read_once_more()
    assert not ahead.done()
    versions.answers.put_nowait(at(1, "e2"))
    await versions.read_once_more()
    assert not ahead.done()
    versions.answers.put_nowait(at(2, "e2"))
    assert await ahead == at(2, "e2")
    await watch.close()
    assert not watch.polling
