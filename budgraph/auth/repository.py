"""The SQL of API keys and their events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph.auth.keys import KeyStatus
from budgraph.db import ApiKey, ApiKeyEvent
from budgraph.db.auth import ApiKeyEventKind


async def key_by_prefix(session: AsyncSession, prefix: str) -> ApiKey | None:
    result: ApiKey | None = await session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    return result


async def key_by_name(session: AsyncSession, name: str, *, for_update: bool = False) -> ApiKey | None:
    """The key named ``name``; ``for_update`` locks its row until the transaction ends."""
    stmt = select(ApiKey).where(ApiKey.name == name)
    if for_update:
        stmt = stmt.with_for_update()
    result: ApiKey | None = await session.scalar(stmt)
    return result


async def insert_key(session: AsyncSession, values: dict[str, Any]) -> ApiKey | None:
    """Insert a key; ``None`` if one of that name exists (decided by PostgreSQL, so two concurrent
    creates of one name cannot both succeed)."""
    stmt = insert(ApiKey).values(**values).on_conflict_do_nothing(index_elements=[ApiKey.name])
    result: ApiKey | None = await session.scalar(stmt.returning(ApiKey))
    return result


async def mark_used(session: AsyncSession, key_id: int, now: datetime, unless_since: datetime) -> bool:
    """Set ``last_used_at`` unless it is already later than ``unless_since``; whether it was set.

    One statement, and it never waits: while another transaction holds the key's row (recording
    the same use, or revoking the key) this one skips, so concurrent requests with one key write
    at most once per interval and never queue behind each other.
    """
    unlocked = (
        select(ApiKey.id)
        .where(ApiKey.id == key_id, or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at <= unless_since))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    stmt = (
        update(ApiKey)
        .where(ApiKey.id == unlocked)
        .values(last_used_at=now)
        .returning(ApiKey.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.scalar(stmt)) is not None


def add_event(
    session: AsyncSession,
    key_id: int,
    kind: ApiKeyEventKind,
    *,
    actor: str,
    address: str | None,
    when: datetime,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        ApiKeyEvent(
            api_key_id=key_id,
            kind=kind.value,
            actor=actor,
            client_address=address,
            occurred_at=when,
            detail=detail or {},
        )
    )


@dataclass(frozen=True)
class ApiKeyQuery:
    statuses: Sequence[KeyStatus] | None = None
    scopes: Sequence[str] | None = None


def keys_statement(query: ApiKeyQuery, now: datetime) -> Select[ApiKey]:
    """Keys matching ``query``, by name."""
    stmt = select(ApiKey)
    if query.statuses is not None:
        conditions: list[ColumnElement[bool]] = []
        if KeyStatus.REVOKED in query.statuses:
            conditions.append(ApiKey.revoked_at.is_not(None))
        if KeyStatus.EXPIRED in query.statuses:
            conditions.append(ApiKey.revoked_at.is_(None) & (ApiKey.expires_at <= now))
        if KeyStatus.ACTIVE in query.statuses:
            conditions.append(
                ApiKey.revoked_at.is_(None) & or_(ApiKey.expires_at.is_(None), ApiKey.expires_at > now)
            )
        stmt = stmt.where(or_(*conditions) if conditions else ApiKey.id.is_(None))
    if query.scopes is not None:
        stmt = stmt.where(ApiKey.scope.in_(list(query.scopes)))
    return stmt.order_by(ApiKey.name)


@dataclass(frozen=True)
class ApiKeyEventQuery:
    key_names: Sequence[str] | None = None
    kinds: Sequence[ApiKeyEventKind] | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


def events_statement(query: ApiKeyEventQuery) -> Select[ApiKeyEvent]:
    """Key events matching ``query``, newest first."""
    stmt = select(ApiKeyEvent)
    if query.key_names is not None:
        named = select(ApiKey.id).where(ApiKey.name.in_(list(query.key_names)))
        stmt = stmt.where(ApiKeyEvent.api_key_id.in_(named))
    if query.kinds is not None:
        stmt = stmt.where(ApiKeyEvent.kind.in_([kind.value for kind in query.kinds]))
    if query.occurred_after is not None:
        stmt = stmt.where(ApiKeyEvent.occurred_at > query.occurred_after)
    if query.occurred_before is not None:
        stmt = stmt.where(ApiKeyEvent.occurred_at < query.occurred_before)
    return stmt.order_by(ApiKeyEvent.id.desc())
