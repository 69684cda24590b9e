"""Every GraphQL error leaves with a stable ``code``; unexpected ones are masked and logged."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

from graphql.error import GraphQLError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from strawberry.extensions import SchemaExtension

from budgraph.kit.errors import BudgraphError, ErrorCode

log = logging.getLogger("budgraph.graphql")


_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "08000", "08001", "08003", "08004", "08006"}


def database_failure(error: BaseException | None) -> ErrorCode | None:
    """TIMEOUT for a statement that ran past the deadline, SERVICE_UNAVAILABLE for a database that
    cannot be reached; None for anything else."""
    if isinstance(error, PoolTimeout):
        return ErrorCode.SERVICE_UNAVAILABLE
    if isinstance(error, DBAPIError):
        sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
        if sqlstate == "57014":  # query_canceled: the statement timeout
            return ErrorCode.TIMEOUT
        if error.connection_invalidated or sqlstate in _UNAVAILABLE_SQLSTATES:
            return ErrorCode.SERVICE_UNAVAILABLE
        cause = error.orig.__cause__ if error.orig is not None else None
        if isinstance(cause, OSError | ConnectionError) or "connection" in type(cause).__name__.lower():
            return ErrorCode.SERVICE_UNAVAILABLE
        return None
    if isinstance(error, OSError | ConnectionError):
        return ErrorCode.SERVICE_UNAVAILABLE
    return None


_FAILURE_MESSAGES = {
    ErrorCode.TIMEOUT: "the database took too long to answer; ask for less, or try again",
    ErrorCode.SERVICE_UNAVAILABLE: "the registry is temporarily unavailable; try again shortly",
}


def refused_value(error: BaseException | None) -> str | None:
    """What to tell the client when the database refuses a value it was given (SQLSTATE class 22:
    a number past a column's precision, a date out of range, ...): their input, not our bug."""
    if not isinstance(error, DBAPIError):
        return None
    sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
    if not sqlstate.startswith("22"):
        return None
    if sqlstate == "22003":
        return "a number is larger (or more precise) than the registry stores for that field"
    if sqlstate in ("22007", "22008"):
        return "a date or time is out of the range the registry stores"
    return "a value cannot be stored or compared as given"


def classify(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, BudgraphError):
        return error
    refusal = refused_value(original)
    if refusal is not None:
        log.info("the database refused a value at %s: %s", error.path, str(original).splitlines()[0][:200])
        return GraphQLError(
            refusal,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.BAD_USER_INPUT.value},
        )
    failure = database_failure(original)
    if failure is not None:
        log.warning("%s at %s: %s: %s", failure.value, error.path, type(original).__name__, original)
        return GraphQLError(
            _FAILURE_MESSAGES[failure],
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": failure.value},
        )
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
    # One line per masked error; the traceback once per distinct failure site, not per request.
    log.error("unexpected error %s at %s: %s", request_id, error.path, _summary(original or error))
    site = _site(original or error)
    if site not in _TRACED:
        _TRACED.add(site)
        log.error("first traceback of %s (request id %s)", site, request_id, exc_info=original or error)
    return GraphQLError(
        f"internal server error (request id {request_id})",
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
    )


_TRACED: set[str] = set()


def _summary(error: BaseException) -> str:
    return f"{type(error).__name__}: {str(error)[:200]}"


def _site(error: BaseException) -> str:
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb is not None else "?"
    return f"{type(error).__name__}@{where}"


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if result is not None and errors:
            result.errors = [classify(error) for error in errors]
