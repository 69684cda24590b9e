"""How the API is served: uvicorn with the limits the app's own checks rely on."""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from budgraph.http_protocol import CoalescingHttpToolsProtocol
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
    access_log: bool | None = None,
) -> uvicorn.Config:
    return uvicorn.Config(
        app, **uvicorn_options(settings, host, port, log_level=log_level, ws=ws, access_log=access_log)
    )


def uvicorn_options(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    log_level: str = "info",
    ws: str = "auto",
    access_log: bool | None = None,
) -> dict[str, Any]:
    """The options of uvicorn for the API (a Config, or ``uvicorn.run`` with several workers)."""
    return dict(
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
        access_log=settings.access_log if access_log is None else access_log,
        ws=ws,
        http=CoalescingHttpToolsProtocol,
    )


def serve_api(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve the API in this process, or in ``settings.api_workers`` processes (each its own pool)."""
    if settings.api_workers <= 1:
        from budgraph.app import create_app

        uvicorn.Server(uvicorn_config(create_app(settings), settings, host, port)).run()
        return
    # The workers build their app from the environment: hand them the servers this command found.
    for name in ("database_url", "redis_url"):
        value = getattr(settings, name)
        if value:
            os.environ[f"BUDGRAPH_{name.upper()}"] = value
    uvicorn.run(
        "budgraph.app:create_app",
        factory=True,
        workers=settings.api_workers,
        **uvicorn_options(settings, host, port),
    )
