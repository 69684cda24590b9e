"""The Dapr sidecar, as the publisher uses it: publish one event, through the ``dapr`` SDK."""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx
from dapr.aio.clients import DaprClient
from dapr.clients.exceptions import DaprGrpcError
from dapr.clients.http.conf import DAPR_API_TOKEN_HEADER, DAPR_USER_AGENT, USER_AGENT_HEADER
from dapr.clients.http.helpers import get_api_url
from dapr.conf import settings as dapr_settings

from budgraph.events.message import CONTENT_TYPE, ChangeEvent


class PublishFailed(Exception):
    """The sidecar did not take an event (unreachable, refused, or too slow); it is retried."""


class Sidecar(Protocol):
    async def connect(self) -> None: ...

    async def publish(self, event: ChangeEvent) -> None: ...

    async def close(self) -> None: ...


class DaprSidecar:
    """Publishes to one pub/sub component and topic of the local Dapr sidecar.

    The SDK finds the sidecar by its own variables (DAPR_GRPC_ENDPOINT or DAPR_RUNTIME_HOST and
    DAPR_GRPC_PORT; DAPR_HTTP_ENDPOINT or DAPR_HTTP_PORT for its health endpoint; DAPR_API_TOKEN),
    which the Dapr injector sets in the app's container.
    """

    def __init__(self, pubsub: str, topic: str, *, publish_timeout: float, connect_timeout: float) -> None:
        self.pubsub = pubsub
        self.topic = topic
        self._publish_timeout = publish_timeout
        self._connect_timeout = connect_timeout
        self._client: DaprClient | None = None

    async def connect(self) -> None:
        """Open the gRPC channel once the sidecar says it is healthy (once; later calls return)."""
        await self._connected()

    async def _connected(self) -> DaprClient:
        if self._client is None:
            await self._healthy()
            self._client = DaprClient()
        return self._client

    async def _healthy(self) -> None:
        """One probe of the sidecar's health endpoint, the one the SDK waits for.

        ``DaprClient()`` checks it too, with a blocking request that retries (printing each failure)
        for up to DAPR_HEALTH_TIMEOUT; probing first, without blocking the event loop, makes that
        check one quick answer, and a sidecar that is not up yet a failure the publisher retries with
        its own backoff.
        """
        headers = {USER_AGENT_HEADER: DAPR_USER_AGENT}
        if dapr_settings.DAPR_API_TOKEN:
            headers[DAPR_API_TOKEN_HEADER] = dapr_settings.DAPR_API_TOKEN
        try:
            async with httpx.AsyncClient(timeout=self._connect_timeout) as http:
                response = await http.get(f"{get_api_url()}/healthz/outbound", headers=headers)
        except httpx.HTTPError as error:
            raise PublishFailed(f"the Dapr sidecar is not reachable ({type(error).__name__})") from error
        if not response.is_success:
            raise PublishFailed(f"the Dapr sidecar is not ready (health: HTTP {response.status_code})")

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
            status = getattr(error.code(), "name", error.code())  # type: ignore[no-untyped-call]
            reason = error.details()  # type: ignore[no-untyped-call]
            raise PublishFailed(f"the sidecar refused change {event.change_id}: {status} {reason}") from error
        except TimeoutError as error:
            raise PublishFailed(
                f"the sidecar did not take change {event.change_id} within {self._publish_timeout:g} s"
            ) from error

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()  # type: ignore[no-untyped-call]
            self._client = None
