"""GraphQL over a WebSocket (graphql-transport-ws on /graphql): each operation on its own.

Every ``subscribe`` message is an operation of its own, run in its own task, and passes the same
checks as over HTTP (``Executor.admit``: limits, inputs, scope, cost, rate limit):
- a query or a mutation runs through ``Executor.run``, so it commits (or rolls back) before its
  result is sent, exactly as over HTTP;
- a subscription reads in short transactions: its connection goes back to the pool after each
  event, so no transaction stays open while it waits.
The API key comes from the ``connection_init`` payload (``{"Authorization": "Bearer ..."}``:
browsers cannot set headers on a WebSocket) or the upgrade request's ``Authorization`` header.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from graphql import OperationType
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.types.unset import UNSET

from budgraph.graphql.context import Context, Operation, current_operation, running
from budgraph.graphql.execution import Executor, GraphQLRequest, Outcome
from budgraph.graphql.principals import Authenticator
from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.kit.unit_of_work import UnitOfWork

log = logging.getLogger("budgraph.websocket")

_SINGLE = frozenset({OperationType.QUERY, OperationType.MUTATION})


class OperationsOverWebSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws with the HTTP path's checks and a unit of work per operation."""

    view: GraphQLOverWebSocket

    async def run_operation(self, operation: Any) -> None:
        executor = self.view.executor
        context = self.context
        query = operation.query
        if not isinstance(query, str):
            await self._errors(
                operation, BudgraphError("`query` must be a string", code=ErrorCode.BAD_REQUEST)
            )
            return
        variables = operation.variables
        if variables is not None and not isinstance(variables, dict):
            await self._errors(
                operation, BudgraphError("`variables` must be an object", code=ErrorCode.BAD_REQUEST)
            )
            return
        request = GraphQLRequest(query, variables, operation.operation_name)
        admission = await executor.admit(context, request)
        if isinstance(admission, Outcome):
            await self._send_outcome(operation, admission)
            return
        if admission.operation.operation in _SINGLE:
            await self._send_outcome(operation, await executor.perform(context, admission))
            return
        async with UnitOfWork(context.sessions, actor=context.actor) as uow:
            streaming = Operation(
                uow, streaming=True, document=admission.prepared.document, extensions=admission.extensions
            )
            with running(streaming):
                await super().run_operation(operation)

    async def _send_outcome(self, operation: Any, outcome: Outcome) -> None:
        if "data" in outcome.body:
            await operation.send_operation_message(
                {"id": operation.id, "type": "next", "payload": outcome.body}
            )
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        else:
            await operation.send_operation_message(
                {"id": operation.id, "type": "error", "payload": outcome.body["errors"]}
            )

    async def _errors(self, operation: Any, error: BudgraphError) -> None:
        payload = [{"message": error.message, "extensions": error.extensions}]
        await operation.send_operation_message({"id": operation.id, "type": "error", "payload": payload})

    async def send_message(self, message: Any) -> None:
        if message.get("type") == "next":
            try:
                operation = current_operation()
            except RuntimeError:
                operation = None
            if operation is not None and operation.streaming:
                # Between two events of a subscription: no transaction, no stale rows.
                await operation.uow.release()
                operation.forget_loaded()
        await super().send_message(message)


class GraphQLOverWebSocket(GraphQL[Context, None]):
    """Strawberry's ASGI app, for the WebSocket only (HTTP has ``GraphQLEndpoint``)."""

    protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL,)
    graphql_transport_ws_handler_class = OperationsOverWebSocket

    def __init__(
        self, executor: Executor, authenticator: Authenticator, context: Context, **kwargs: Any
    ) -> None:
        super().__init__(schema=executor.schema, graphql_ide=None, **kwargs)
        self.executor = executor
        self.authenticator = authenticator
        self.template = context

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        """A WebSocket connection's context; no unit of work (each operation has its own)."""
        return replace(
            self.template,
            client_address=request.client.host if request.client else None,
            authorization=request.headers.get("authorization"),
        )

    async def on_ws_connect(self, context: Context) -> Any:
        params = context.connection_params or {}
        given = params.get("Authorization", params.get("authorization"))
        if given is not None and not isinstance(given, str):
            raise ConnectionRejectionError({"code": ErrorCode.BAD_USER_INPUT.value})
        try:
            context.principal = await self.authenticator.principal(
                given or context.authorization, context.client_address
            )
        except BudgraphError as error:
            raise ConnectionRejectionError(error.extensions) from None
        except (DBAPIError, PoolTimeout, OSError) as error:
            log.error("a WebSocket could not be authenticated: %s: %s", type(error).__name__, error)
            raise ConnectionRejectionError({"code": ErrorCode.SERVICE_UNAVAILABLE.value}) from None
        if context.principal is None and context.settings.require_api_key_for_reads:
            raise ConnectionRejectionError({"code": ErrorCode.UNAUTHENTICATED.value})
        return UNSET
