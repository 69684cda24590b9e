"""How the API is served: uvicorn with the limits the app's own checks rely on."""

from __future__ import annotations

from typing import Any

import uvicorn

from budgraph.settings import Settings

# Request headers of a GraphQL client are small; anything past this is refused by the server.
MAX_HEADER_BYTES = 32 * 1024


def uvicorn_config(
    app: Any,
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    log_level: str = "info",
    ws: str = "auto",
    access_log: bool = True,
) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        host=host or settings.host,
        port=port or settings.port,
        # graphql-transport-ws messages carry one document and its variables: bounded like a body.
        ws_max_size=settings.ws_max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        h11_max_incomplete_event_size=MAX_HEADER_BYTES,
        timeout_keep_alive=5,
        timeout_graceful_shutdown=10,
        log_level=log_level,
        access_log=access_log,
        ws=ws,
    )
