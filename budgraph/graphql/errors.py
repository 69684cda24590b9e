"""Every GraphQL error leaves with a stable ``code``; unexpected ones are masked and logged."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension

from budgraph.kit.errors import BudgraphError, ErrorCode

log = logging.getLogger("budgraph.graphql")


def classify(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, BudgraphError):
        return error
    if error.path is None:
        # Raised before execution (parsing, validation, coercing variables): the request is at fault.
        if error.extensions and "code" in error.extensions:
            return error
        syntax = error.message.startswith("Syntax Error")
        code = ErrorCode.GRAPHQL_PARSE_FAILED if syntax else ErrorCode.GRAPHQL_VALIDATION_FAILED
        return GraphQLError(
            error.message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            extensions={**(error.extensions or {}), "code": code.value},
        )
    request_id = uuid.uuid4().hex
    log.error("unexpected error %s at %s", request_id, error.path, exc_info=original or error)
    return GraphQLError(
        f"internal server error (request id {request_id})",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
    )


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [classify(error) for error in errors]
