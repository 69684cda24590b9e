"""The registry version and its change log: what runtimes sync from."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, Identity, Index, Text, Uuid, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, enum_check
from budgraph.db.enums import ChangeOperation


class RegistryState(Base):
    """A single row holding the registry version, bumped once by every transaction that writes, and
    the registry's epoch: a random id made with the registry, so a client can tell it was reset."""

    __tablename__ = "registry_state"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default=text("1"))
    version: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    epoch: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, server_default=text("gen_random_uuid()"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class ChangeLogEntry(Base):
    """One change to one registry entity: who, when, what, its natural key, the values before and after.

    ``entity_key`` is the entity's natural key (a deletion's tombstone); ``before`` holds the changed
    fields' old values (all fields on delete, null on create), ``after`` their new values (all
    fields on create, null on delete). References are global ids, decimals strings.
    """

    __tablename__ = "change_log"
    __table_args__ = (
        CheckConstraint(enum_check("operation", ChangeOperation), name="operation"),
        Index(None, "entity_kind", "entity_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    registry_version: Mapped[int] = mapped_column(BigInteger, nullable=False)
    entity_kind: Mapped[str] = mapped_column(Text, nullable=False)
    entity_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    operation: Mapped[str] = mapped_column(Text, nullable=False)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    actor: Mapped[str] = mapped_column(Text, nullable=False)
    entity_key: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, server_default="{}")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class ChangePublication(Base):
    """A single row: how far the event publisher got through the change log (the outbox).

    ``change_id`` is the last change-log row published to Dapr pub/sub and marked; every row after
    it is unpublished (change-log ids grow in commit order, see ``budgraph.events``). The publisher
    holds this row's lock while it publishes a batch, so two processes never publish at once.
    """

    __tablename__ = "change_publication"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, server_default=text("1"))
    change_id: Mapped[int] = mapped_column(BigInteger, nullable=False, server_default=text("0"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RowCountDelta(Base):
    """How many rows one write statement added to (or removed from) a counted table, written by
    triggers (migration 0011); a table's row count is the sum of its deltas, folded into one row
    by the change recorder (``budgraph.registry.row_counts.py``)."""

    __tablename__ = "row_count_delta"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    table_name: Mapped[str] = mapped_column(Text, nullable=False, index=True)
    delta: Mapped[int] = mapped_column(BigInteger, nullable=False)
