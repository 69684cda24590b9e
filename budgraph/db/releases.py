"""Upstream engine releases, what each declares, and the quantization an engine version supports.

An upstream release (vLLM 0.8.0 as published on the package index) is recorded with the facts its
code declares (``budgraph/releases/``); an engine version (a Bud image for one device) may name the
release it packages and then derives its compatibility edges, endpoints and quantization rows from
it. Every row is a registry entity (``ProvenanceMixin``): each write moves the registry version and
is a change in the feed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, Origin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.engines import ENDPOINT_VALUES
from budgraph.db.enums import ArchitectureTask, DeviceArchitecture

# "8.9", "10.0": a CUDA compute capability, compared as (major, minor) numbers.
CAPABILITY_FORMAT = "^[0-9]+\\.[0-9]+$"
QUANTIZATION_ORIGINS = (Origin.RELEASE, Origin.SEED, Origin.API)


def _capability_check(column: str) -> str:
    return f"{column} IS NULL OR {column} ~ '{CAPABILITY_FORMAT}'"


class UpstreamRelease(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    """One published release of an engine, as read from its artifact."""

    __tablename__ = "upstream_release"
    __table_args__ = (
        CheckConstraint("length(artifact) > 0", name="artifact_not_empty"),
        CheckConstraint(
            "artifact_sha256 IS NULL OR artifact_sha256 ~ '^[0-9a-f]{64}$'", name="artifact_sha256_format"
        ),
        # Equal versions (`0.8`, `0.8.0`) are one release.
        Index(None, "engine_id", "version_key", unique=True),
        # The root list's order (by engine, highest version first).
        Index(
            "ix_upstream_release_by_engine_id_version_key_desc_id",
            "engine_id",
            text("version_key DESC"),
            "id",
        ),
    )
    __natural_key__ = ("engine_id", "version")

    engine_id: Mapped[int] = mapped_column(ForeignKey("engine.id", ondelete="RESTRICT"), nullable=False)
    version: Mapped[str] = mapped_column(Text, nullable=False)
    version_key: Mapped[str] = mapped_column(Text(collation="C"), nullable=False)
    artifact: Mapped[str] = mapped_column(Text, nullable=False)
    artifact_sha256: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), nullable=False
    )


class _Declared:
    """Where in the release a fact is declared."""

    source_file: Mapped[str] = mapped_column(Text, nullable=False)
    source_symbol: Mapped[str] = mapped_column(Text, nullable=False)


class UpstreamArchitecture(IdMixin, TimestampMixin, ProvenanceMixin, _Declared, Base):
    """An architecture a release serves, with what its code declares about it."""

    __tablename__ = "upstream_architecture"
    __table_args__ = (
        CheckConstraint(enum_check("task", ArchitectureTask), name="task"),
        CheckConstraint(f"endpoints <@ ARRAY[{ENDPOINT_VALUES}]::text[]", name="endpoints"),
        Index(None, "release_id", "architecture_id", unique=True),
        Index(None, "architecture_id"),
    )

    release_id: Mapped[int] = mapped_column(
        ForeignKey("upstream_release.id", ondelete="CASCADE"), nullable=False
    )
    architecture_id: Mapped[int] = mapped_column(
        ForeignKey("model_architecture.id", ondelete="RESTRICT"), nullable=False
    )
    task: Mapped[str] = mapped_column(Text, nullable=False)
    endpoints: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    supports_pipeline_parallelism: Mapped[bool | None] = mapped_column(Boolean)
    supports_lora: Mapped[bool | None] = mapped_column(Boolean)
    multimodal: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    gguf_architecture: Mapped[str | None] = mapped_column(Text)


class UpstreamDroppedArchitecture(IdMixin, TimestampMixin, ProvenanceMixin, _Declared, Base):
    """An architecture a release says it no longer serves (vLLM's `_PREVIOUSLY_SUPPORTED_MODELS`).

    Its own table, not a flag on ``upstream_architecture``: a dropped class has no task, endpoints or
    capabilities, and it may name a class the registry never had, so it is kept by name.
    """

    __tablename__ = "upstream_dropped_architecture"
    __table_args__ = (
        CheckConstraint("length(class_name) > 0", name="class_name_not_empty"),
        Index(None, "release_id", "class_name", unique=True),
    )

    release_id: Mapped[int] = mapped_column(
        ForeignKey("upstream_release.id", ondelete="CASCADE"), nullable=False
    )
    class_name: Mapped[str] = mapped_column(Text, nullable=False)


class _Quantization:
    method: Mapped[str] = mapped_column(Text, nullable=False)
    device_architecture: Mapped[str] = mapped_column(Text, nullable=False)
    min_compute_capability: Mapped[str | None] = mapped_column(Text)
    activation_dtypes: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)


class UpstreamQuantization(IdMixin, TimestampMixin, ProvenanceMixin, _Declared, _Quantization, Base):
    """A quantization method a release implements for a device, with its minimum capability."""

    __tablename__ = "upstream_quantization"
    __table_args__ = (
        CheckConstraint(enum_check("device_architecture", DeviceArchitecture), name="device_architecture"),
        CheckConstraint(_capability_check("min_compute_capability"), name="min_compute_capability_format"),
        CheckConstraint("method ~ '^[a-z0-9][a-z0-9_.-]*$'", name="method_format"),
        Index(None, "release_id", "method", "device_architecture", unique=True),
    )

    release_id: Mapped[int] = mapped_column(
        ForeignKey("upstream_release.id", ondelete="CASCADE"), nullable=False
    )


class QuantizationSupport(IdMixin, TimestampMixin, ProvenanceMixin, _Quantization, Base):
    """An engine version can run models quantized with ``method`` on its device, from a minimum
    compute capability where one applies. ``origin``: `release` (derived from the upstream release
    the version packages), `seed` (curated, with its source URL) or `api` (an operator's; a
    re-applied release never changes it)."""

    __tablename__ = "quantization_support"
    __table_args__ = (
        CheckConstraint(enum_check("device_architecture", DeviceArchitecture), name="device_architecture"),
        CheckConstraint(_capability_check("min_compute_capability"), name="min_compute_capability_format"),
        CheckConstraint("method ~ '^[a-z0-9][a-z0-9_.-]*$'", name="method_format"),
        CheckConstraint(
            "origin IN (" + ", ".join(f"'{o.value}'" for o in QUANTIZATION_ORIGINS) + ")", name="origin"
        ),
        Index(None, "engine_version_id", "method", unique=True),
        # The root list's order, and a version's rows.
        Index("ix_quantization_support_by_engine_version_id_method_id", "engine_version_id", "method", "id"),
        Index(None, "device_architecture", "method"),
    )

    engine_version_id: Mapped[int] = mapped_column(
        ForeignKey("engine_version.id", ondelete="CASCADE"), nullable=False
    )
    # Where in an upstream release the row was declared (release rows; curated rows give source_url).
    source_file: Mapped[str | None] = mapped_column(Text)
    source_symbol: Mapped[str | None] = mapped_column(Text)
