"""Engines, their versions, and the model architectures a version supports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, Text, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from budgraph.db.base import Base, IdMixin, ProvenanceMixin, TimestampMixin, enum_check
from budgraph.db.enums import DeviceArchitecture, Endpoint, EngineVersionStatus, MatchType, ParserRuleType

ENDPOINT_VALUES = ", ".join(f"'{e.value}'" for e in Endpoint)


class Engine(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "engine"
    __table_args__ = (CheckConstraint("slug ~ '^[a-z0-9][a-z0-9.-]*$'", name="slug_format"),)

    slug: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    homepage_url: Mapped[str | None] = mapped_column(Text)


class EngineVersion(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "engine_version"
    __table_args__ = (
        CheckConstraint(enum_check("device_architecture", DeviceArchitecture), name="device_architecture"),
        CheckConstraint(enum_check("status", EngineVersionStatus), name="status"),
        CheckConstraint(f"endpoints <@ ARRAY[{ENDPOINT_VALUES}]::text[]", name="endpoints"),
        # Equal versions (`0.10`, `0.10.0`, `v0.10.0`) share a key, so they are one version.
        Index(None, "engine_id", "version_key", "device_architecture", unique=True),
        Index(None, "device_architecture", "status"),
        Index(None, "upstream_release_id"),
    )
    # What a runtime calls it in the change feed (the unique index is on the normalised key).
    __natural_key__ = ("engine_id", "version", "device_architecture")

    engine_id: Mapped[int] = mapped_column(ForeignKey("engine.id", ondelete="RESTRICT"), nullable=False)
    version: Mapped[str] = mapped_column(Text, nullable=False)
    # A string that sorts (byte-wise) in the version's PEP 440 / semver order; see kit/versions.py.
    version_key: Mapped[str] = mapped_column(Text(collation="C"), nullable=False)
    device_architecture: Mapped[str] = mapped_column(Text, nullable=False)
    container_image: Mapped[str] = mapped_column(Text, nullable=False)
    release_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(Text, nullable=False, default=EngineVersionStatus.ACTIVE.value)
    endpoints: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    features: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    tool_call_parsers: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    reasoning_parsers: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)
    # The upstream release this build packages: its compatibility, endpoints and quantization
    # support are derived from that release (budgraph/releases/service.py).
    upstream_release_id: Mapped[int | None] = mapped_column(
        ForeignKey("upstream_release.id", ondelete="RESTRICT")
    )
    # What an operator removed although the upstream release declares it (architecture class names,
    # quantization methods): re-applying the release does not bring them back.
    withdrawn_architectures: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"), default=list
    )
    withdrawn_quantization: Mapped[list[str]] = mapped_column(
        ARRAY(Text), nullable=False, server_default=text("'{}'::text[]"), default=list
    )


class ModelArchitecture(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    __tablename__ = "model_architecture"

    class_name: Mapped[str] = mapped_column(Text, unique=True, nullable=False)
    family: Mapped[str | None] = mapped_column(Text)
    supports_lora: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    supports_pipeline_parallelism: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    default_tool_call_parser: Mapped[str | None] = mapped_column(Text)
    default_reasoning_parser: Mapped[str | None] = mapped_column(Text)


class CompatibilityEdge(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    """An engine version can serve models of an architecture."""

    __tablename__ = "compatibility_edge"
    __table_args__ = (Index(None, "engine_version_id", "architecture_id", unique=True),)

    engine_version_id: Mapped[int] = mapped_column(
        ForeignKey("engine_version.id", ondelete="CASCADE"), nullable=False
    )
    architecture_id: Mapped[int] = mapped_column(
        ForeignKey("model_architecture.id", ondelete="RESTRICT"), nullable=False
    )


class ParserRule(IdMixin, TimestampMixin, ProvenanceMixin, Base):
    """Chooses a tool-call or reasoning parser for a model id (exact / prefix / regex)."""

    __tablename__ = "parser_rule"
    __table_args__ = (
        CheckConstraint(enum_check("rule_type", ParserRuleType), name="rule_type"),
        CheckConstraint(enum_check("match_type", MatchType), name="match_type"),
        CheckConstraint("length(pattern) > 0", name="pattern_not_empty"),
        Index(None, "engine_id", "rule_type", "match_type", "pattern", unique=True),
    )

    engine_id: Mapped[int] = mapped_column(ForeignKey("engine.id", ondelete="CASCADE"), nullable=False)
    rule_type: Mapped[str] = mapped_column(Text, nullable=False)
    parser: Mapped[str] = mapped_column(Text, nullable=False)
    match_type: Mapped[str] = mapped_column(Text, nullable=False)
    pattern: Mapped[str] = mapped_column(Text, nullable=False)
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    enabled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    notes: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # The chat template the engine needs with this parser (a path the engine ships, e.g. vLLM's
    # `examples/tool_chat_template_llama3.1_json.jinja`).
    chat_template: Mapped[str | None] = mapped_column(Text)
