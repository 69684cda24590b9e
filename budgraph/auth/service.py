"""Creating, revoking and checking API keys, each recorded in the audit of key events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.auth import keys, repository
from budgraph.auth.rules import checked_expiry, checked_name, checked_rate_limit, lookable_name, when
from budgraph.db import ApiKey
from budgraph.db.auth import ApiKeyEventKind
from budgraph.db.enums import ApiKeyScope
from budgraph.kit import clock
from budgraph.kit.errors import Conflict, NotFound, Unauthenticated

# A key's use is written (last_used_at and a USED event) at most once per this interval.
USE_RECORD_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedKey:
    """A new key's row and its plaintext (shown once, never stored)."""

    row: ApiKey
    plaintext: str


async def issue_key(
    session: AsyncSession,
    name: str,
    scope: ApiKeyScope,
    *,
    actor: str,
    address: str | None = None,
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
) -> IssuedKey:
    """Store a new key (and its CREATED event); the plaintext is returned, never stored."""
    now = clock.now()
    values = {
        "name": checked_name(name),
        "scope": scope.value,
        "expires_at": checked_expiry(expires_at, now),
        "rate_limit": checked_rate_limit(rate_limit),
    }
    if await repository.key_by_name(session, name) is not None:
        raise Conflict(f"an API key named {name!r} already exists", field="name")
    new = keys.generate_key()
    row = await repository.insert_key(
        session, {**values, "prefix": new.prefix, "secret_hash": new.secret_hash}
    )
    if row is None:
        raise Conflict(f"an API key named {name!r} already exists", field="name")
    detail = {
        "scope": scope.value,
        "expiresAt": expires_at.isoformat() if expires_at else None,
        "rateLimit": rate_limit,
    }
    repository.add_event(
        session, row.id, ApiKeyEventKind.CREATED, actor=actor, address=address, when=now, detail=detail
    )
    await session.flush()
    return IssuedKey(row=row, plaintext=new.plaintext)


async def create_key(
    session: AsyncSession,
    name: str,
    scope: ApiKeyScope,
    *,
    actor: str = "system",
    address: str | None = None,
    expires_at: datetime | None = None,
    rate_limit: int | None = None,
) -> str:
    """Store a new key and return its plaintext (shown once, never stored)."""
    issued = await issue_key(
        session, name, scope, actor=actor, address=address, expires_at=expires_at, rate_limit=rate_limit
    )
    return issued.plaintext


async def find_key(session: AsyncSession, name: str, *, for_update: bool = False) -> ApiKey | None:
    """The key named ``name``, if any; ``for_update`` locks it until the transaction ends."""
    if not lookable_name(name):
        return None
    return await repository.key_by_name(session, name, for_update=for_update)


async def _key_to_change(session: AsyncSession, name: str) -> ApiKey:
    key = await find_key(session, name, for_update=True)
    if key is None:
        raise NotFound(f"no API key named {name[:120]!r}", field="name")
    return key


async def _revoke(session: AsyncSession, key: ApiKey, actor: str, address: str | None) -> None:
    now = clock.now()
    key.revoked_at = now
    repository.add_event(session, key.id, ApiKeyEventKind.REVOKED, actor=actor, address=address, when=now)
    await session.flush()


async def revoke(session: AsyncSession, name: str, *, actor: str, address: str | None = None) -> ApiKey:
    """Revoke a key (and record its REVOKED event); revoking a revoked key changes nothing."""
    key = await _key_to_change(session, name)
    if key.revoked_at is None:
        await _revoke(session, key, actor, address)
    return key


async def revoke_key(
    session: AsyncSession, name: str, *, actor: str = "system", address: str | None = None
) -> bool:
    """Revoke a key; whether it was active (False: unknown or already revoked)."""
    key = await find_key(session, name, for_update=True)
    if key is None or key.revoked_at is not None:
        return False
    await _revoke(session, key, actor, address)
    return True


async def set_rate_limit(
    session: AsyncSession, name: str, rate_limit: int | None, *, actor: str, address: str | None = None
) -> ApiKey:
    """Give a key a query-cost budget of its own per window (``None``: the default budget)."""
    checked_rate_limit(rate_limit)
    key = await _key_to_change(session, name)
    if key.revoked_at is not None:
        raise Conflict(f"the API key {name!r} is revoked; its budget no longer matters", field="name")
    if key.rate_limit != rate_limit:
        detail = {"before": key.rate_limit, "after": rate_limit}
        key.rate_limit = rate_limit
        repository.add_event(
            session,
            key.id,
            ApiKeyEventKind.RATE_LIMIT_CHANGED,
            actor=actor,
            address=address,
            when=clock.now(),
            detail=detail,
        )
        await session.flush()
    return key


async def _record_use(session: AsyncSession, key: ApiKey, address: str | None, now: datetime) -> None:
    """Write ``last_used_at`` and a USED event, at most once per ``USE_RECORD_INTERVAL`` per key."""
    since = now - USE_RECORD_INTERVAL
    if key.last_used_at is not None and key.last_used_at > since:
        return
    if await repository.mark_used(session, key.id, now, since):
        repository.add_event(session, key.id, ApiKeyEventKind.USED, actor=key.name, address=address, when=now)
        await session.flush()


async def authenticate(
    session: AsyncSession, authorization: str | None, *, address: str | None = None
) -> keys.Principal | None:
    """The caller of an ``Authorization`` header: ``None`` without one, an error for a bad one.

    ``address`` is the client's, recorded with the (throttled) use of the key.
    """
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must read `Bearer <api key>`")
    token = token.strip()
    prefix = keys.split_key(token)
    row = await repository.key_by_prefix(session, prefix) if prefix else None
    # Always one constant-time comparison (against a dummy hash when no key has the prefix).
    if not keys.matches(token, row.secret_hash if row is not None else None) or row is None:
        raise Unauthenticated("the API key is unknown")
    now = clock.now()
    if row.revoked_at is not None:
        raise Unauthenticated(f"the API key {row.name!r} was revoked at {when(row.revoked_at)}")
    if row.expires_at is not None and row.expires_at <= now:
        raise Unauthenticated(f"the API key {row.name!r} expired at {when(row.expires_at)}")
    await _record_use(session, row, address, now)
    return keys.Principal(key_name=row.name, scope=ApiKeyScope(row.scope), rate_limit=row.rate_limit)
