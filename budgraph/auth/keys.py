"""API key format, hashing and scope rules.

A key reads ``bgk_<prefix>_<secret>``: a 12-hex-digit prefix that finds the row, and 43 characters
of URL-safe base64 (256 random bits). Only a SHA-256 of the whole key is stored; with that much
randomness a fast hash is enough (no password stretching).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from budgraph.db.enums import ApiKeyScope

_SCOPE_RANK = {ApiKeyScope.READ: 0, ApiKeyScope.WRITE: 1, ApiKeyScope.ADMIN: 2}
_KEY = re.compile(r"bgk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
# Compared against when no key has the prefix, so an unknown prefix costs the same comparison.
_DUMMY_HASH = hashlib.sha256(b"budgraph: no key has this prefix").hexdigest()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the name of their API key, its scope, and its own rate-limit budget (if set)."""

    key_name: str
    scope: ApiKeyScope
    rate_limit: int | None = None

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
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def split_key(plaintext: str) -> str | None:
    """The prefix of a well-formed key, else ``None`` (nothing else is ever looked up)."""
    match = _KEY.fullmatch(plaintext)
    return match.group(1) if match else None


def matches(plaintext: str, secret_hash: str | None) -> bool:
    """Whether ``plaintext`` hashes to ``secret_hash``, in constant time.

    ``None`` (no key has the prefix) is compared against a dummy hash, so the time taken does not
    tell which prefixes exist.
    """
    expected = secret_hash if secret_hash is not None else _DUMMY_HASH
    equal = hmac.compare_digest(hash_key(plaintext), expected)
    return equal and secret_hash is not None


class KeyStatus(StrEnum):
    """Whether a key can be used now."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def status_of(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> KeyStatus:
    if revoked_at is not None:
        return KeyStatus.REVOKED
    if expires_at is not None and expires_at <= now:
        return KeyStatus.EXPIRED
    return KeyStatus.ACTIVE
