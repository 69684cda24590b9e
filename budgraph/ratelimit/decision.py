"""What a rate-limit check decided, and how to tell the client (IETF RateLimit header fields).

The header fields are those of draft-ietf-httpapi-ratelimit-headers (-06): ``RateLimit-Limit``,
``RateLimit-Remaining``, ``RateLimit-Reset`` (delta seconds) and ``RateLimit-Policy``
(``<limit>;w=<window seconds>``), plus ``Retry-After`` on a refusal.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from budgraph.kit.errors import BudgraphError, ErrorCode


class RateLimitRefusal(BudgraphError):
    """A request the limiter refused: over budget (RATE_LIMITED, HTTP 429), or not countable while
    Redis is down and the limiter fails closed (SERVICE_UNAVAILABLE, 503). ``headers`` are the
    response header fields to send with it."""

    code = ErrorCode.RATE_LIMITED

    def __init__(self, message: str, *, code: ErrorCode | None = None, headers: dict[str, str]) -> None:
        super().__init__(message, code=code)
        self.headers = headers


class RatePolicy(StrEnum):
    """What a budget counts."""

    COST = "query cost"
    AUTH_FAILURES = "failed authentications"


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one charge or check.

    ``enforced`` is false when Redis could not be reached: the decision is then the configured
    fail mode (allowed when failing open, refused when failing closed) and says nothing about
    the budget, so no ``RateLimit-*`` fields are sent.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    window_seconds: int
    cost: int
    policy: RatePolicy
    enforced: bool = True
    unavailable_retry_seconds: int = 5

    @property
    def retry_after(self) -> int | None:
        """Seconds to wait before trying again; ``None`` when allowed."""
        if self.allowed:
            return None
        return self.reset_seconds if self.enforced else self.unavailable_retry_seconds

    @property
    def http_status(self) -> int:
        """200 when allowed, 429 over budget, 503 when the limiter could not decide (failing closed)."""
        if self.allowed:
            return 200
        return 429 if self.enforced else 503

    def extension(self) -> dict[str, int] | None:
        """What to report in an answer's ``extensions`` (``None`` when nothing is known)."""
        if not self.enforced:
            return None
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "resetSeconds": self.reset_seconds,
            "cost": self.cost,
        }

    def refusal(self) -> RateLimitRefusal:
        """The typed error of a refused request (RATE_LIMITED, or SERVICE_UNAVAILABLE)."""
        if self.allowed:
            raise ValueError("an allowed request has no refusal")
        retry = self.retry_after
        headers = rate_limit_headers(self)
        if not self.enforced:
            error = RateLimitRefusal(
                f"{self.policy} cannot be counted right now; retry in {retry} s",
                code=ErrorCode.SERVICE_UNAVAILABLE,
                headers=headers,
            )
            error.extensions["retryAfter"] = retry
            return error
        if self.policy is RatePolicy.AUTH_FAILURES:
            message = (
                f"too many failed authentications from this address ({self.limit} per"
                f" {self.window_seconds} s); retry in {retry} s"
            )
        elif self.cost > self.limit:
            message = (
                f"this request costs {self.cost}, more than the whole budget of {self.limit} per"
                f" {self.window_seconds} s; ask for less"
            )
        else:
            message = (
                f"over the rate limit: {self.remaining} of {self.limit} left in this {self.window_seconds} s"
                f" window and this request costs {self.cost}; retry in {retry} s"
            )
        limited = RateLimitRefusal(message, headers=headers)
        limited.extensions.update(
            {
                "limit": self.limit,
                "remaining": self.remaining,
                "resetSeconds": self.reset_seconds,
                "retryAfter": retry,
                "cost": self.cost,
            }
        )
        return limited


def rate_limit_headers(decision: RateDecision) -> dict[str, str]:
    """The response header fields for ``decision``."""
    headers: dict[str, Any] = {}
    if decision.enforced:
        headers = {
            "RateLimit-Limit": decision.limit,
            "RateLimit-Remaining": decision.remaining,
            "RateLimit-Reset": decision.reset_seconds,
            "RateLimit-Policy": f"{decision.limit};w={decision.window_seconds}",
        }
    if decision.retry_after is not None:
        headers["Retry-After"] = decision.retry_after
    return {name: str(value) for name, value in headers.items()}
