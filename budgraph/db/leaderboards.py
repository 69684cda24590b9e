"""Leaderboard sources, their dated snapshots, benchmarks, entries, and model aliases."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.enums import SourceRunStatus


class LeaderboardSource(IdMixin, TimestampMixin, Base):
    """A public leaderboard we read, and how its refreshes went."""

    __tablename__ = "leaderboard_source"
    __table_args__ = (
        CheckConstraint(
            f"last_status IS NULL OR {enum_check('last_status', SourceRunStatus)}", name="last_status"
        ),
    )

    key: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    homepage_url: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    last_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the last *successful* extraction started: the 7-day rule counts from here, not from the end.
    last_success_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    validators: Mapped[dict[str, Any]] = mapped_column(
        JSONB, nullable=False, default=dict, server_default="{}"
    )


class LeaderboardSnapshot(IdMixin, TimestampMixin, Base):
    """One successful read of a source: its entries as published on a date. History is kept."""

    __tablename__ = "leaderboard_snapshot"
    __table_args__ = (Index(None, "source_id", "fetched_at"),)

    source_id: Mapped[int] = mapped_column(
        ForeignKey("leaderboard_source.id", ondelete="CASCADE"), nullable=False
    )
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    fetched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    published_on: Mapped[date | None] = mapped_column(Date)
    entry_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Benchmark(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "benchmark"

    key: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    source_key: Mapped[str | None] = mapped_column(Text, index=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    scale: Mapped[str | None] = mapped_column(Text)
    higher_is_better: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class LeaderboardEntry(IdMixin, TimestampMixin, Base):
    """One published score, with its standing among the entries of its benchmark in its snapshot.

    The standing (``position``, ``percentile``) is stored when the snapshot is written
    (``leaderboards.repository.restand``, in the same transaction) and read as plain columns; it is
    NULL only between a writer's insert and that UPDATE."""

    __tablename__ = "leaderboard_entry"
    __table_args__ = (
        Index(None, "model_id", "snapshot_id"),
        Index(None, "snapshot_id", "raw_model_name"),
        CheckConstraint(
            "(position IS NULL) = (percentile IS NULL) AND (position IS NULL) = (ranked_among IS NULL)",
            name="standing_complete",
        ),
        CheckConstraint(
            "position >= 1 AND position <= ranked_among AND percentile >= 0 AND percentile <= 100",
            name="standing_range",
        ),
    )

    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark.id", ondelete="CASCADE"), nullable=False)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("leaderboard_snapshot.id", ondelete="CASCADE"), nullable=False
    )
    model_id: Mapped[int | None] = mapped_column(ForeignKey("model.id", ondelete="SET NULL"))
    match_method: Mapped[str | None] = mapped_column(Text)
    raw_model_name: Mapped[str] = mapped_column(Text, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(20, 6), nullable=False)
    rank: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    published_on: Mapped[date | None] = mapped_column(Date)
    extra: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    # 1-based rank() by score in the benchmark's direction within the snapshot; ties share one.
    position: Mapped[int | None] = mapped_column(Integer)
    # 100 * (1 - percent_rank()) over the same order, in double precision as the window gives it.
    percentile: Mapped[float | None] = mapped_column(Double)
    # How many entries the standing is among: those of the benchmark in the snapshot.
    ranked_among: Mapped[int | None] = mapped_column(Integer)


class ModelAlias(IdMixin, TimestampMixin, Base):
    """Another name of a registry model, as leaderboards write it: ``alias`` exactly as the operator
    typed it, ``key`` the form names are matched in (``leaderboards.matching.name_key``: case,
    punctuation and organisation prefix normalised, nothing else). One model per key."""

    __tablename__ = "model_alias"

    alias: Mapped[str] = mapped_column(Text, nullable=False)
    key: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), nullable=False)
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
