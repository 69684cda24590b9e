"""Rate limits held in Redis, shared by every API process.

- ``RateLimiter``: a cost budget per window per API key, and per client address for anonymous
  requests (an admin may give a key a budget of its own).
- ``AuthFailureThrottle``: failed authentications per address; past the limit the address is
  refused before any key lookup.
- ``charge_hook``: the limiter as the executor's ``charge`` hook.
- ``rate_limit_headers``: the IETF draft ``RateLimit-*`` fields (and ``Retry-After``) of a decision.

Both fail open or closed while Redis is down (``BUDGRAPH_RATE_LIMIT_WHEN_REDIS_DOWN``), logging
the outage once.
"""

from budgraph.ratelimit.auth_failures import AuthFailureThrottle
from budgraph.ratelimit.decision import RateDecision, RateLimitRefusal, RatePolicy, rate_limit_headers
from budgraph.ratelimit.hook import charge_hook
from budgraph.ratelimit.identities import address_identity, caller_identity, key_identity
from budgraph.ratelimit.limiter import RateLimiter

__all__ = [
    "AuthFailureThrottle",
    "RateDecision",
    "RateLimitRefusal",
    "RateLimiter",
    "RatePolicy",
    "address_identity",
    "caller_identity",
    "charge_hook",
    "key_identity",
    "rate_limit_headers",
]
