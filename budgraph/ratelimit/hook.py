"""The rate limiter as the executor's charge hook (``Charge`` in ``budgraph/graphql/execution.py``).

    executor = Executor(schema, settings, charge=charge_hook(RateLimiter(redis_url, settings)))

Each admitted operation charges its computed cost (at least ``rate_limit_request_cost``: a query
of scalars costs 0 objects, and a flood of them must still be counted) to the caller: its API key
(with the key's own budget when an admin set one), else its client address. The hook answers the
refusal (or ``None``), the ``RateLimit-*`` header fields, and what to report under
``extensions.rateLimit``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from budgraph.auth.keys import Principal
from budgraph.kit.errors import BudgraphError
from budgraph.ratelimit.decision import rate_limit_headers
from budgraph.ratelimit.limiter import RateLimiter

if TYPE_CHECKING:
    from budgraph.graphql.execution import Charge


class Caller(Protocol):
    @property
    def principal(self) -> Principal | None: ...

    @property
    def client_address(self) -> str | None: ...


def charge_hook(limiter: RateLimiter) -> Charge:
    async def charge(
        caller: Caller, cost: int
    ) -> tuple[BudgraphError | None, dict[str, str], dict[str, Any]]:
        decision = await limiter.charge_caller(caller.principal, caller.client_address, cost)
        refusal = None if decision.allowed else decision.refusal()
        return refusal, rate_limit_headers(decision), decision.extension() or {}

    return charge
