"""The API's Starlette application, with GraphQL requests handed to the endpoint first.

    app = GraphQLFirstApp(endpoint.handle, unexpected, routes=[...], lifespan=lifespan)

A GET or POST on ``/graphql`` goes straight to the endpoint, which answers every request itself
(a typed JSON error for anything it refuses): Starlette's error and exception middleware, router
and route were a fifth of a cached read. An error the endpoint did not expect is answered by the
same handler Starlette would call for it. Everything else (the other methods on ``/graphql``,
the WebSocket, health, the Dapr routes, the playground's assets, lifespan) is Starlette's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

GRAPHQL_PATH = "/graphql"

Handler = Callable[[Request], Awaitable[Response]]
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


class GraphQLFirstApp(Starlette):
    def __init__(self, graphql: Handler, unexpected: ErrorHandler, **options: Any) -> None:
        super().__init__(exception_handlers={Exception: unexpected}, **options)
        self._graphql = graphql
        self._unexpected = unexpected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH or scope["method"] not in ("GET", "POST"):
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        request = Request(scope, receive, send)
        try:
            response = await self._graphql(request)
        except Exception as error:  # the last net, as Starlette's: a JSON 500 with a request id
            response = await self._unexpected(request, error)
        await response(scope, receive, send)
