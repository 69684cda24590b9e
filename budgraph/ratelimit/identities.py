"""Whose budget a request spends: its API key's, or its client address's.

IPv6 clients are counted by their /64 network: one host is usually handed a whole /64, so
counting single addresses would let it rotate through billions of fresh budgets.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from budgraph.auth.keys import Principal

KEY = "key:"
ADDRESS = "address:"
_UNKNOWN_ADDRESS = "unknown"


def key_identity(key_name: str) -> str:
    return f"{KEY}{key_name}"


@lru_cache(maxsize=4_096)  # the same few clients ask again and again; parsing is a tenth of a read
def address_identity(address: str | None) -> str:
    """The identity of a client address: an IPv4 address, an IPv6 /64, or the text as given."""
    if not address:
        return f"{ADDRESS}{_UNKNOWN_ADDRESS}"
    try:
        parsed = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return f"{ADDRESS}{address[:200]}"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return f"{ADDRESS}{parsed.ipv4_mapped}"
        return f"{ADDRESS}{ipaddress.IPv6Network((parsed, 64), strict=False)}"
    return f"{ADDRESS}{parsed}"


def caller_identity(principal: Principal | None, address: str | None) -> str:
    """An API key's identity when the caller has one, else its address's."""
    return key_identity(principal.key_name) if principal is not None else address_identity(address)
