"""Models (ML models, not ORM models) and their licenses."""

from __future__ import annotations

from sqlalchemy import ARRAY, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.enums import LicenseKind, Modality, ModelSource, ModelStatus


class License(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "license"
    __table_args__ = (CheckConstraint(enum_check("kind", LicenseKind), name="kind"),)

    key: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    commercial_use: Mapped[bool] = mapped_column(Boolean, nullable=False)
    aliases: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)


class Model(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "model"
    __table_args__ = (
        CheckConstraint(enum_check("source_kind", ModelSource), name="source_kind"),
        CheckConstraint(enum_check("modality", Modality), name="modality"),
        CheckConstraint(enum_check("status", ModelStatus), name="status"),
        CheckConstraint("parameter_count IS NULL OR parameter_count > 0", name="parameter_count_positive"),
        CheckConstraint("context_length IS NULL OR context_length > 0", name="context_length_positive"),
        Index(None, "source_kind", "uri", unique=True),
        Index(None, "architecture"),
        Index(None, "license_id"),
        Index(None, "parameter_count"),
    )

    uri: Mapped[str] = mapped_column(Text, nullable=False)
    source_kind: Mapped[str] = mapped_column(Text, nullable=False)
    author: Mapped[str | None] = mapped_column(Text)
    architecture: Mapped[str | None] = mapped_column(Text)
    modality: Mapped[str] = mapped_column(Text, nullable=False, default=Modality.TEXT.value)
    parameter_count: Mapped[int | None] = mapped_column(BigInteger)
    context_length: Mapped[int | None] = mapped_column(Integer)
    license_id: Mapped[int | None] = mapped_column(ForeignKey("license.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(Text, nullable=False, default=ModelStatus.REGISTERED.value)
