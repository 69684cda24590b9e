"""Models (ML models, not ORM models) and their licenses."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.enums import LicenseKind, Modality, ModelSource, ModelStatus, ScanStatus


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
        CheckConstraint(
            f"scan_status IS NULL OR {enum_check('scan_status', ScanStatus)}", name="scan_status"
        ),
        CheckConstraint("parameter_count IS NULL OR parameter_count > 0", name="parameter_count_positive"),
        CheckConstraint("context_length IS NULL OR context_length > 0", name="context_length_positive"),
        CheckConstraint(
            " AND ".join(
                f"coalesce({name}, 1) > 0"
                for name in ("sliding_window_layers", "kv_lora_rank", "qk_rope_head_dim", "intermediate_size")
            ),
            name="plan_shape_positive",
        ),
        Index(None, "source_kind", "uri", unique=True),
        # Hub ids are case-insensitive (the Hub resolves any casing to one repository): one model each.
        Index(
            "uq_model_huggingface_uri_lower",
            func.lower(text("uri")),
            unique=True,
            postgresql_where=text(f"source_kind = '{ModelSource.HUGGINGFACE.value}'"),
        ),
        Index(None, "architecture"),
        Index(None, "license_id"),
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
    revision: Mapped[str] = mapped_column(Text, nullable=False, server_default="main", default="main")
    # Facts found by extraction; `fact_sources` says where each came from.
    model_type: Mapped[str | None] = mapped_column(Text)
    layers: Mapped[int | None] = mapped_column(Integer)
    hidden_size: Mapped[int | None] = mapped_column(Integer)
    attention_heads: Mapped[int | None] = mapped_column(Integer)
    kv_heads: Mapped[int | None] = mapped_column(Integer)
    head_dim: Mapped[int | None] = mapped_column(Integer)
    vocab_size: Mapped[int | None] = mapped_column(Integer)
    dtype: Mapped[str | None] = mapped_column(Text)
    quantization_method: Mapped[str | None] = mapped_column(Text)
    quantization_bits: Mapped[int | None] = mapped_column(Integer)
    experts_total: Mapped[int | None] = mapped_column(Integer)
    experts_active: Mapped[int | None] = mapped_column(Integer)
    active_parameter_count: Mapped[int | None] = mapped_column(BigInteger)
    weight_bytes: Mapped[int | None] = mapped_column(BigInteger)
    kv_cache_bytes_per_token: Mapped[int | None] = mapped_column(BigInteger)
    sliding_window: Mapped[int | None] = mapped_column(Integer)
    sliding_window_layers: Mapped[int | None] = mapped_column(Integer)
    kv_lora_rank: Mapped[int | None] = mapped_column(Integer)
    qk_rope_head_dim: Mapped[int | None] = mapped_column(Integer)
    intermediate_size: Mapped[int | None] = mapped_column(Integer)
    base_models: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default="{}", default=list
    )
    languages: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default="{}", default=list
    )
    datasets: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default="{}", default=list
    )
    tags: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, server_default="{}", default=list)
    pipeline_tag: Mapped[str | None] = mapped_column(Text)
    license_name: Mapped[str | None] = mapped_column(Text)
    gated: Mapped[bool | None] = mapped_column(Boolean)
    fact_sources: Mapped[dict[str, str]] = mapped_column(
        JSONB, nullable=False, server_default="{}", default=dict
    )
    extraction_warnings: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default="{}", default=list
    )
    extracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Why the latest extraction failed (status `failed`); cleared when an extraction succeeds.
    extraction_error: Mapped[str | None] = mapped_column(Text)
    scan_status: Mapped[str | None] = mapped_column(Text)
    scanned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
