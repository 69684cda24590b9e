"""Expected failures, each with a stable ``code`` extension that clients can switch on."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy.exc import IntegrityError


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
    RATE_LIMITED = "RATE_LIMITED"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class BudgraphError(Exception):
    """An expected failure. graphql-core copies ``extensions`` onto the GraphQL error."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(self, message: str, *, code: ErrorCode | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.extensions: dict[str, Any] = {"code": self.code.value}
        if field is not None:
            self.extensions["field"] = field


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
    """Turn a database constraint violation into a typed error naming the constraint."""
    original = error.orig
    sqlstate = str(getattr(original, "sqlstate", "") or getattr(original, "pgcode", ""))
    constraint = getattr(getattr(original, "__cause__", None), "constraint_name", None)
    code, phrase = _CONSTRAINT_MESSAGES.get(sqlstate, (ErrorCode.CONSTRAINT_VIOLATION, "was rejected"))
    detail = f" (constraint {constraint})" if constraint else ""
    return BudgraphError(f"{what} {phrase}{detail}", code=code)
