"""Job updates are published per queue: two registries sharing one Redis server (pub/sub ignores
database numbers) never hear each other's jobs, though their job ids are the same numbers."""

from __future__ import annotations

import json
import uuid

from budgraph.jobs.queue import ArqJobQueue, channel
from tests.conftest import Servers


async def test_a_job_update_reaches_only_its_own_queue(servers: Servers) -> None:
    ours = ArqJobQueue(servers.redis_url, queue_name=f"budgraph:test:{uuid.uuid4().hex}")
    theirs = ArqJobQueue(servers.redis_url, queue_name=f"budgraph:test:{uuid.uuid4().hex}")
    listener = (await ours.pool()).pubsub()
    await listener.subscribe(channel(ours.queue_name, 1))
    try:
        await theirs.publish(1, {"id": 1, "status": "running"})
        await ours.publish(1, {"id": 1, "status": "succeeded"})
        heard = []
        for _ in range(20):
            message = await listener.get_message(ignore_subscribe_messages=True, timeout=0.2)
            if message is not None:
                heard.append(json.loads(message["data"]))
            elif heard:
                break
        assert heard == [{"id": 1, "status": "succeeded"}]
    finally:
        await listener.aclose()
        await ours.close()
        await theirs.close()
