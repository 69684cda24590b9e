"""Benchmarks and leaderboard entries (filled by the leaderboard refresh)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, Numeric, Text
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin


class Benchmark(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "benchmark"

    key: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(Text)
    higher_is_better: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class LeaderboardEntry(IdMixin, TimestampMixin, Base):
    __tablename__ = "leaderboard_entry"
    __table_args__ = (Index(None, "benchmark_id", "score"), Index(None, "model_id"))

    benchmark_id: Mapped[int] = mapped_column(ForeignKey("benchmark.id", ondelete="CASCADE"), nullable=False)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("model.id", ondelete="SET NULL"))
    raw_model_name: Mapped[str] = mapped_column(Text, nullable=False)
    score: Mapped[Decimal] = mapped_column(Numeric(20, 6), nullable=False)
    rank: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text, nullable=False)
    published_on: Mapped[date | None] = mapped_column(Date)
