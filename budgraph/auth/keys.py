"""API key format, hashing and scope rules.

A key reads ``bgk_<prefix>_<secret>``. The prefix finds the row; only a SHA-256 of the whole key
is stored. Keys are 256 bits of randomness, so a fast hash is enough (no password stretching).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from budgraph.db.enums import ApiKeyScope

_SCOPE_RANK = {ApiKeyScope.READ: 0, ApiKeyScope.WRITE: 1, ApiKeyScope.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the name of their API key and its scope."""

    key_name: str
    scope: ApiKeyScope

    def allows(self, needed: ApiKeyScope) -> bool:
        return _SCOPE_RANK[self.scope] >= _SCOPE_RANK[needed]


@dataclass(frozen=True)
class NewKey:
    prefix: str
    plaintext: str
    secret_hash: str


def generate_key() -> NewKey:
    prefix = secrets.token_hex(6)
    plaintext = f"bgk_{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(prefix=prefix, plaintext=plaintext, secret_hash=hash_key(plaintext))


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def split_key(plaintext: str) -> str | None:
    """The prefix of a well-formed key, else ``None``."""
    parts = plaintext.split("_", 2)
    if len(parts) != 3 or parts[0] != "bgk" or not parts[1] or not parts[2]:
        return None
    return parts[1]


def matches(plaintext: str, secret_hash: str) -> bool:
    return hmac.compare_digest(hash_key(plaintext), secret_hash)
