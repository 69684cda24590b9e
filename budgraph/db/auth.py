"""API keys (only a hash of the secret is stored) and the audit of what happened to them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, TimestampMixin, enum_check
from budgraph.db.enums import ApiKeyScope


class ApiKeyEventKind(StrEnum):
    """What happened to an API key."""

    CREATED = "created"
    REVOKED = "revoked"
    USED = "used"
    RATE_LIMIT_CHANGED = "rate_limit_changed"


class ApiKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint(enum_check("scope", ApiKeyScope), name="scope"),
        CheckConstraint("rate_limit IS NULL OR rate_limit > 0", name="rate_limit_positive"),
    )

    name: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Written at most once per minute per key (see auth/service.py), never once per request.
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The key's own query-cost budget per rate-limit window; NULL: the default key budget.
    rate_limit: Mapped[int | None] = mapped_column(Integer)


class ApiKeyEvent(IdMixin, Base):
    """One thing that happened to a key: who did it, when, from where, and the details."""

    __tablename__ = "api_key_event"
    __table_args__ = (CheckConstraint(enum_check("kind", ApiKeyEventKind), name="kind"),)

    api_key_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("api_key.id", ondelete="CASCADE"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    client_address: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False, index=True
    )
    detail: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, server_default=text("'{}'::jsonb"), default=dict
    )
