"""Expected failures, each with a stable ``code`` extension that clients can switch on."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError

log = logging.getLogger("budgraph.errors")


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_ID = "INVALID_ID"
    INVALID_CURSOR = "INVALID_CURSOR"
    NOT_FOUND = "NOT_FOUND"
    PAGE_SIZE_EXCEEDED = "PAGE_SIZE_EXCEEDED"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    CONFLICT = "CONFLICT"
    CONSTRAINT_VIOLATION = "CONSTRAINT_VIOLATION"
    RESYNC_REQUIRED = "RESYNC_REQUIRED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # A model's source (the Hub) could not be asked (retry later), or its files say nothing usable.
    SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
    SOURCE_UNREADABLE = "SOURCE_UNREADABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Refusals of the HTTP request itself, before any GraphQL is read.
    BAD_REQUEST = "BAD_REQUEST"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    NOT_ACCEPTABLE = "NOT_ACCEPTABLE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    REQUEST_TIMEOUT = "REQUEST_TIMEOUT"
    # Refusals of an operation before it runs, and a deadline while it runs.
    QUERY_LIMIT_EXCEEDED = "QUERY_LIMIT_EXCEEDED"
    RATE_LIMITED = "RATE_LIMITED"
    TIMEOUT = "TIMEOUT"
    RESPONSE_TOO_LARGE = "RESPONSE_TOO_LARGE"
    # An automatic persisted query whose document the registry does not know yet: send it once.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"


# The HTTP status of a request refused for one of these reasons (anything else that fails before
# execution is a GraphQL request error: 400 for application/graphql-response+json, 200 for JSON).
HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.BAD_REQUEST: 400,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.NOT_ACCEPTABLE: 406,
    ErrorCode.REQUEST_TIMEOUT: 408,
    ErrorCode.PAYLOAD_TOO_LARGE: 413,
    ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.TIMEOUT: 504,
}


class BudgraphError(Exception):
    """An expected failure. graphql-core copies ``extensions`` onto the GraphQL error."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self,
        message: str,
        *,
        code: ErrorCode | None = None,
        field: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extensions: dict[str, Any] = {"code": self.code.value}
        if field is not None:
            self.extensions["field"] = field
        self.extensions.update(details)


class NotFound(BudgraphError):
    code = ErrorCode.NOT_FOUND


class InvalidId(BudgraphError):
    code = ErrorCode.INVALID_ID


class Conflict(BudgraphError):
    code = ErrorCode.CONFLICT


class Unauthenticated(BudgraphError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(BudgraphError):
    code = ErrorCode.FORBIDDEN


_CONSTRAINT_MESSAGES = {
    "23505": (ErrorCode.CONFLICT, "already exists"),
    "23503": (ErrorCode.CONSTRAINT_VIOLATION, "refers to a row that does not exist or is still referenced"),
    "23514": (ErrorCode.CONSTRAINT_VIOLATION, "breaks a rule of the registry"),
    "23502": (ErrorCode.CONSTRAINT_VIOLATION, "misses a required value"),
}


def from_integrity_error(error: IntegrityError, what: str) -> BudgraphError:
    """Turn a database constraint violation into a typed error in the domain's words.

    The constraint's name stays in the log (it is the database's vocabulary, not the client's).
    """
    original = error.orig
    sqlstate = str(getattr(original, "sqlstate", "") or getattr(original, "pgcode", ""))
    constraint = getattr(getattr(original, "__cause__", None), "constraint_name", None)
    code, phrase = _CONSTRAINT_MESSAGES.get(sqlstate, (ErrorCode.CONSTRAINT_VIOLATION, "was rejected"))
    log.info("constraint %s refused %s (sqlstate %s)", constraint, what, sqlstate)
    return BudgraphError(f"{what} {phrase}", code=code)
