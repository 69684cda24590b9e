"""Creating, revoking and checking API keys."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.auth import keys, repository
from budgraph.db import ApiKey
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.errors import Conflict, Unauthenticated


async def create_key(session: AsyncSession, name: str, scope: ApiKeyScope) -> str:
    """Store a new key and return its plaintext (shown once, never stored)."""
    if await repository.key_by_name(session, name) is not None:
        raise Conflict(f"an API key named {name!r} already exists")
    new = keys.generate_key()
    session.add(ApiKey(name=name, prefix=new.prefix, secret_hash=new.secret_hash, scope=scope.value))
    await session.flush()
    return new.plaintext


async def revoke_key(session: AsyncSession, name: str) -> bool:
    key = await repository.key_by_name(session, name)
    if key is None or key.revoked_at is not None:
        return False
    key.revoked_at = datetime.now(UTC)
    await session.flush()
    return True


async def authenticate(session: AsyncSession, authorization: str | None) -> keys.Principal | None:
    """The caller of an ``Authorization`` header: ``None`` without one, an error for a bad one."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must read `Bearer <api key>`")
    token = token.strip()
    prefix = keys.split_key(token)
    row = await repository.key_by_prefix(session, prefix) if prefix else None
    if row is None or row.revoked_at is not None or not keys.matches(token, row.secret_hash):
        raise Unauthenticated("the API key is unknown or revoked")
    return keys.Principal(key_name=row.name, scope=ApiKeyScope(row.scope))
