"""The GraphQL endpoint: one unit of work per operation, committed before the answer leaves.

Over HTTP an operation is the request. Over graphql-transport-ws each ``subscribe`` message is an
operation of its own (run in its own task), with its own unit of work:
- a query or a mutation commits (or rolls back, if it has errors) before its result is sent,
  exactly as over HTTP;
- a subscription reads in short transactions: the connection goes back to the pool after each
  event, so no transaction stays open while it waits.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from graphql import GraphQLError, GraphQLFormattedError, OperationDefinitionNode, OperationType, parse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UNSET

from budgraph.auth.keys import Principal
from budgraph.auth.service import authenticate
from budgraph.graphql.context import Context, Operation, current_operation, running
from budgraph.jobs.queue import JobQueue
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, ErrorCode, from_integrity_error
from budgraph.kit.unit_of_work import UnitOfWork
from budgraph.playground import CONTENT_SECURITY_POLICY, render_playground
from budgraph.settings import Settings
from budgraph.storage import ObjectStore

log = logging.getLogger("budgraph.http")

UNAVAILABLE = BudgraphError("the registry is temporarily unavailable", code=ErrorCode.SERVICE_UNAVAILABLE)


def failure_as_graphql(error: BudgraphError) -> GraphQLFormattedError:
    return {"message": error.message, "extensions": error.extensions}


def error_response(error: BudgraphError, status: int) -> JSONResponse:
    return JSONResponse({"data": None, "errors": [failure_as_graphql(error)]}, status_code=status)


async def finish(uow: UnitOfWork, failed: bool) -> BudgraphError | None:
    """Commit an operation's unit of work, or roll it back if the operation failed.

    Returns the typed error that replaces the answer when the commit itself fails.
    """
    if failed:
        await uow.rollback()
        return None
    try:
        await uow.commit()
    except BudgraphError as error:
        return error
    except IntegrityError as error:
        return from_integrity_error(error, "the change")
    except (DBAPIError, PoolTimeout, OSError) as error:
        # The database (or Redis, enqueueing after commit) is unreachable: retryable, not a bug.
        log.error("commit failed: %s: %s", type(error).__name__, error)
        return UNAVAILABLE
    return None


async def authenticate_once(
    sessions: async_sessionmaker[RequestSession], authorization: str | None
) -> Principal | None:
    """The caller of an ``Authorization`` value, looked up in a short transaction of its own."""
    if not authorization:
        return None
    async with UnitOfWork(sessions, actor="anonymous") as uow:
        return await authenticate(uow.session, authorization)


def _operation_type(query: object, operation_name: object) -> OperationType | None:
    """The type of the operation a message asks for (None if the document does not say)."""
    if not isinstance(query, str):
        return None
    try:
        document = parse(query)
    except GraphQLError:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    for definition in operations:
        if operation_name is None or (definition.name and definition.name.value == operation_name):
            return definition.operation
    return None


class OperationsOverWebSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with a unit of work per operation."""

    async def run_operation(self, operation: Any) -> None:
        context = self.context
        streaming = _operation_type(operation.query, operation.operation_name) is OperationType.SUBSCRIPTION
        async with UnitOfWork(context.sessions, actor=context.actor) as uow:
            with running(Operation(uow, streaming=streaming)):
                await super().run_operation(operation)
            if not uow.ended:
                await uow.rollback()

    async def send_message(self, message: Message) -> None:
        if message["type"] == "next":
            operation = current_operation()
            if operation.streaming:
                # Between two events of a subscription: no transaction, no stale rows.
                await operation.uow.release()
                operation.forget_loaded()
            else:
                failure = await finish(operation.uow, bool(message["payload"].get("errors")))
                if failure is not None:
                    message = {
                        "id": message["id"],
                        "type": "next",
                        "payload": {"data": None, "errors": [failure_as_graphql(failure)]},
                    }
        await super().send_message(message)


class BudgraphGraphQL(GraphQL[Context, None]):
    protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    graphql_transport_ws_handler_class = OperationsOverWebSocket

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

    def _context(self, principal: Principal | None, client: str | None) -> Context:
        return Context(
            settings=self.settings,
            queue=self.queue,
            sessions=self.sessions,
            store=self.store,
            principal=principal,
            client_address=client,
        )

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        """A WebSocket connection's context; no unit of work (each operation has its own)."""
        client = request.client.host if request.client else None
        context = self._context(None, client)
        context.authorization = request.headers.get("authorization")
        return context

    async def on_ws_connect(self, context: Context) -> Any:
        """Authenticate the connection: the ``connection_init`` payload's ``Authorization`` (browsers
        cannot set headers on a WebSocket), else the upgrade request's header."""
        params = context.connection_params or {}
        given = params.get("Authorization", params.get("authorization"))
        if given is not None and not isinstance(given, str):
            raise ConnectionRejectionError({"code": ErrorCode.BAD_USER_INPUT.value})
        try:
            context.principal = await authenticate_once(self.sessions, given or context.authorization)
        except BudgraphError as error:
            raise ConnectionRejectionError(error.extensions) from None
        if context.principal is None and self.settings.require_api_key_for_reads:
            raise ConnectionRejectionError({"code": ErrorCode.UNAUTHENTICATED.value})
        return UNSET

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        try:
            principal = await authenticate_once(self.sessions, request.headers.get("authorization"))
        except BudgraphError as error:
            return error_response(error, 401)
        except (DBAPIError, PoolTimeout, OSError) as error:
            log.error("authentication failed: %s: %s", type(error).__name__, error)
            return error_response(UNAVAILABLE, 503)
        # The playground page itself (a GET without a query) stays open; every operation needs a key.
        page_only = request.method == "GET" and "query" not in request.query_params
        if principal is None and self.settings.require_api_key_for_reads and not page_only:
            return error_response(
                BudgraphError(
                    "an API key is required (Authorization: Bearer <key>)", code=ErrorCode.UNAUTHENTICATED
                ),
                401,
            )
        client = request.client.host if request.client else None
        ctx = self._context(principal, client)
        async with UnitOfWork(self.sessions, actor=ctx.actor) as uow:
            with running(Operation(uow)):
                request.state.failed = False
                response = await super().run(request, ctx, root_value)
            failure = await finish(uow, request.state.failed)
        if failure is not None:
            status = 503 if failure.code is ErrorCode.SERVICE_UNAVAILABLE else 200
            return error_response(failure, status)
        return response

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
