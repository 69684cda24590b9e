"""The GraphQL HTTP endpoint: one unit of work per request, committed here and only here."""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UNSET

from budgraph.auth.keys import Principal
from budgraph.auth.service import authenticate
from budgraph.graphql.context import Context
from budgraph.jobs.queue import JobQueue
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, ErrorCode, from_integrity_error
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.playground import CONTENT_SECURITY_POLICY, render_playground
from budgraph.settings import Settings
from budgraph.storage import ObjectStore

log = logging.getLogger("budgraph.http")


def error_response(error: BudgraphError, status: int) -> JSONResponse:
    body = {"data": None, "errors": [{"message": error.message, "extensions": error.extensions}]}
    return JSONResponse(body, status_code=status)


class BudgraphGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        sessions: async_sessionmaker[RequestSession],
        settings: Settings,
        queue: JobQueue,
        store: ObjectStore,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.sessions = sessions
        self.settings = settings
        self.queue = queue
        self.store = store

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        """The context of a subscription (HTTP requests get theirs in ``run``)."""
        uow = UnitOfWork(self.sessions, actor="anonymous")
        try:
            principal = await authenticate(uow.session, request.headers.get("authorization"))
        finally:
            await uow.close()
        return self._context(uow, principal)

    def _context(self, uow: UnitOfWork, principal: Principal | None) -> Context:
        return Context(
            uow=uow,
            settings=self.settings,
            queue=self.queue,
            sessions=self.sessions,
            store=self.store,
            principal=principal,
        )

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        uow = UnitOfWork(self.sessions, actor="anonymous")
        try:
            try:
                principal = await authenticate(uow.session, request.headers.get("authorization"))
            except BudgraphError as error:
                return error_response(error, 401)
            # The playground page itself (a GET without a query) stays open; every operation needs a key.
            page_only = request.method == "GET" and "query" not in request.query_params
            if principal is None and self.settings.require_api_key_for_reads and not page_only:
                return error_response(
                    BudgraphError(
                        "an API key is required (Authorization: Bearer <key>)", code=ErrorCode.UNAUTHENTICATED
                    ),
                    401,
                )
            ctx = self._context(uow, principal)
            request.state.budgraph = ctx
            request.state.failed = False
            response = await super().run(request, ctx, root_value)
            if request.state.failed:
                await uow.rollback()
                return response
            try:
                await uow.commit()
            except BudgraphError as error:
                await uow.rollback()
                return error_response(error, 200)
            except IntegrityError as error:
                await uow.rollback()
                return error_response(from_integrity_error(error, "the change"), 200)
            except (DBAPIError, OSError) as error:
                # The database (or Redis, enqueueing after commit) is unreachable: retryable, not a bug.
                log.error("commit failed: %s", error)
                await uow.rollback()
                return error_response(
                    BudgraphError(
                        "the registry is temporarily unavailable", code=ErrorCode.SERVICE_UNAVAILABLE
                    ),
                    503,
                )
            return response
        except BaseException:
            await uow.rollback()
            raise
        finally:
            await uow.close()

    async def render_graphql_ide(self, request: Request) -> Response:
        # Our own GraphiQL page, served from the package (strawberry's default loads it from a CDN).
        # Strawberry only calls this when graphql_ide is set, i.e. when settings.playground is true.
        return HTMLResponse(
            render_playground(endpoint=request.url.path),
            headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY},
        )

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        # Any error fails the whole request: a mutation's partial writes are never committed.
        if result.errors:
            request.state.failed = True
        return await super().process_result(request, result)

    def encode_json(self, data: object) -> str:
        return json.dumps(data, default=str)
