"""The Dapr sidecar, as the publisher uses it: publish one event, through the ``dapr`` SDK."""

from __future__ import annotations

import asyncio
from typing import Protocol

from dapr.aio.clients import DaprClient
from dapr.aio.clients.health import DaprHealth
from dapr.clients.exceptions import DaprGrpcError

from budgraph.events.message import CONTENT_TYPE, ChangeEvent


class PublishFailed(Exception):
    """The sidecar did not take an event (unreachable, refused, or too slow); it is retried."""


class Sidecar(Protocol):
    async def publish(self, event: ChangeEvent) -> None: ...

    async def close(self) -> None: ...


class DaprSidecar:
    """Publishes to one pub/sub component and topic of the local Dapr sidecar.

    The SDK finds the sidecar by its own variables (DAPR_GRPC_ENDPOINT or DAPR_RUNTIME_HOST and
    DAPR_GRPC_PORT; DAPR_HTTP_ENDPOINT or DAPR_HTTP_PORT for its health endpoint; DAPR_API_TOKEN).
    """

    def __init__(self, pubsub: str, topic: str, *, publish_timeout: float, connect_timeout: float) -> None:
        self.pubsub = pubsub
        self.topic = topic
        self._publish_timeout = publish_timeout
        self._connect_timeout = connect_timeout
        self._client: DaprClient | None = None

    async def _connected(self) -> DaprClient:
        if self._client is None:
            # DaprClient() checks the sidecar's health with a blocking request that waits up to
            # DAPR_HEALTH_TIMEOUT for it; waiting here first, without blocking the event loop, makes
            # that check a single quick answer.
            try:
                async with asyncio.timeout(self._connect_timeout):
                    await DaprHealth.wait_for_sidecar()  # type: ignore[no-untyped-call]
            except TimeoutError as error:
                raise PublishFailed("the Dapr sidecar's health endpoint did not answer") from error
            self._client = DaprClient()
        return self._client

    async def publish(self, event: ChangeEvent) -> None:
        client = await self._connected()
        try:
            async with asyncio.timeout(self._publish_timeout):
                await client.publish_event(
                    pubsub_name=self.pubsub,
                    topic_name=self.topic,
                    data=event.data(),
                    data_content_type=CONTENT_TYPE,
                    publish_metadata=event.metadata(),
                )
        except DaprGrpcError as error:
            raise PublishFailed(f"the sidecar refused change {event.change_id}: {error}") from error
        except TimeoutError as error:
            raise PublishFailed(
                f"the sidecar did not take change {event.change_id} within {self._publish_timeout:g} s"
            ) from error

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
