"""Background jobs (extraction, scanning), the files of models, and scan results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, TimestampMixin, enum_check
from budgraph.db.enums import FileScanStatus, JobKind, JobStatus, Severity

ACTIVE = "status IN ('queued', 'running')"


class Job(IdMixin, TimestampMixin, Base):
    """One background job. While a job with a ``dedupe_key`` (kind, model, revision) is queued or
    running, no second one with that key can exist; see ``jobs.queue.arq_job_id`` for the arq id."""

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(enum_check("kind", JobKind), name="kind"),
        CheckConstraint(enum_check("status", JobStatus), name="status"),
        CheckConstraint("progress BETWEEN 0 AND 100", name="progress_range"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(None, "dedupe_key", unique=True, postgresql_where=text(ACTIVE)),
        Index(None, "model_id", "created_at"),
        Index(None, "status", "heartbeat_at"),
    )

    kind: Mapped[str] = mapped_column(Text, nullable=False)
    model_id: Mapped[int | None] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"))
    revision: Mapped[str | None] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text, nullable=False)
    dedupe_key: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, default=JobStatus.QUEUED.value)
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    step: Mapped[str] = mapped_column(Text, nullable=False, default="queued")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False, default=dict, server_default="{}")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    requested_by: Mapped[str] = mapped_column(Text, nullable=False)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ModelFile(IdMixin, TimestampMixin, Base):
    """A file of a model revision kept in the object store."""

    __tablename__ = "model_file"
    __table_args__ = (
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_format"),
        Index(None, "model_id", "revision", "path", unique=True),
    )

    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), nullable=False)
    revision: Mapped[str] = mapped_column(Text, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(Text, nullable=False)
    object_key: Mapped[str] = mapped_column(Text, nullable=False)


class ScanResult(IdMixin, TimestampMixin, Base):
    """What one scanner found in one file during one scan job."""

    __tablename__ = "scan_result"
    __table_args__ = (
        CheckConstraint(enum_check("status", FileScanStatus), name="status"),
        CheckConstraint(f"severity IS NULL OR {enum_check('severity', Severity)}", name="severity"),
        Index(None, "model_id", "job_id"),
    )

    model_id: Mapped[int] = mapped_column(ForeignKey("model.id", ondelete="CASCADE"), nullable=False)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), nullable=False)
    scanner: Mapped[str] = mapped_column(Text, nullable=False)
    path: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False)
    severity: Mapped[str | None] = mapped_column(Text)
    finding: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)
