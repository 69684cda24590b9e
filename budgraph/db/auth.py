"""API keys: only a hash of the secret is stored."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Text
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, TimestampMixin, enum_check
from budgraph.db.enums import ApiKeyScope


class ApiKey(IdMixin, TimestampMixin, Base):
    __tablename__ = "api_key"
    __table_args__ = (CheckConstraint(enum_check("scope", ApiKeyScope), name="scope"),)

    name: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    secret_hash: Mapped[str] = mapped_column(Text, nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
