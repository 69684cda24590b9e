"""Registry graph: engines, versions, architectures, compatibility, parser rules, models, licenses,
providers, hardware and prices, benchmarks, API keys, and the registry version with its change log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 18:07:34.567224
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("scope IN ('read', 'write', 'admin')", name=op.f("ck_api_key_scope")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("name", name=op.f("uq_api_key_name")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "benchmark",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("higher_is_better", sa.Boolean(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_benchmark")),
        sa.UniqueConstraint("key", name=op.f("uq_benchmark_key")),
    )
    op.create_table(
        "change_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("registry_version", sa.BigInteger(), nullable=False),
        sa.Column("entity_kind", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("changed_fields", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "operation IN ('create', 'update', 'delete')", name=op.f("ck_change_log_operation")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )
    op.create_index(
        op.f("ix_change_log_entity_kind_entity_id"), "change_log", ["entity_kind", "entity_id"], unique=False
    )
    op.create_index(op.f("ix_change_log_registry_version"), "change_log", ["registry_version"], unique=False)
    op.create_table(
        "engine",
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("homepage_url", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9.-]*$'", name=op.f("ck_engine_slug_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine")),
        sa.UniqueConstraint("slug", name=op.f("uq_engine_slug")),
    )
    op.create_table(
        "hardware",
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("device_architecture", sa.Text(), nullable=False),
        sa.Column("memory_gib", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("memory_bandwidth_gbps", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("peak_bf16_tflops", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("peak_fp8_tflops", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("compute_capability", sa.Text(), nullable=True),
        sa.Column("tdp_watts", sa.Integer(), nullable=True),
        sa.Column("release_year", sa.Integer(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "compute_capability IS NULL OR compute_capability ~ '^[0-9]+\\.[0-9]+$'",
            name=op.f("ck_hardware_compute_capability_format"),
        ),
        sa.CheckConstraint(
            "device_architecture IN ('CUDA', 'ROCM', 'CPU', 'HPU')",
            name=op.f("ck_hardware_device_architecture"),
        ),
        sa.CheckConstraint("sku ~ '^[a-z0-9][a-z0-9.-]*$'", name=op.f("ck_hardware_sku_format")),
        sa.CheckConstraint(
            "coalesce(memory_gib, 0) >= 0 AND coalesce(memory_bandwidth_gbps, 0) >= 0 AND coalesce(peak_bf16_tflops, 0) >= 0 AND coalesce(peak_fp8_tflops, 0) >= 0",
            name=op.f("ck_hardware_specs_not_negative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hardware")),
        sa.UniqueConstraint("sku", name=op.f("uq_hardware_sku")),
    )
    op.create_index(
        op.f("ix_hardware_device_architecture"), "hardware", ["device_architecture"], unique=False
    )
    op.create_index(op.f("ix_hardware_vendor"), "hardware", ["vendor"], unique=False)
    op.create_table(
        "license",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("commercial_use", sa.Boolean(), nullable=False),
        sa.Column("aliases", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('permissive', 'copyleft', 'restricted', 'proprietary')", name=op.f("ck_license_kind")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_license")),
        sa.UniqueConstraint("key", name=op.f("uq_license_key")),
    )
    op.create_table(
        "model_architecture",
        sa.Column("class_name", sa.Text(), nullable=False),
        sa.Column("family", sa.Text(), nullable=True),
        sa.Column("supports_lora", sa.Boolean(), nullable=False),
        sa.Column("supports_pipeline_parallelism", sa.Boolean(), nullable=False),
        sa.Column("default_tool_call_parser", sa.Text(), nullable=True),
        sa.Column("default_reasoning_parser", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_architecture")),
        sa.UniqueConstraint("class_name", name=op.f("uq_model_architecture_class_name")),
    )
    op.create_index(op.f("ix_model_architecture_family"), "model_architecture", ["family"], unique=False)
    op.create_table(
        "provider",
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("homepage_url", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "kind IN ('model_api', 'gateway', 'compute_cloud')", name=op.f("ck_provider_kind")
        ),
        sa.CheckConstraint("slug ~ '^[a-z0-9][a-z0-9_.-]*$'", name=op.f("ck_provider_slug_format")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider")),
        sa.UniqueConstraint("slug", name=op.f("uq_provider_slug")),
    )
    op.create_table(
        "registry_state",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_registry_state_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_state")),
    )
    op.execute("INSERT INTO registry_state (id, version) VALUES (1, 0)")
    op.create_table(
        "engine_version",
        sa.Column("engine_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("version_key", sa.Text(collation="C"), nullable=False),
        sa.Column("device_architecture", sa.Text(), nullable=False),
        sa.Column("container_image", sa.Text(), nullable=False),
        sa.Column("release_date", sa.Date(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("endpoints", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("features", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("tool_call_parsers", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("reasoning_parsers", sa.ARRAY(sa.Text()), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "device_architecture IN ('CUDA', 'ROCM', 'CPU', 'HPU')",
            name=op.f("ck_engine_version_device_architecture"),
        ),
        sa.CheckConstraint(
            "endpoints <@ ARRAY['CHAT', 'COMPLETION', 'EMBEDDING', 'CLASSIFY', 'RERANK', 'TRANSCRIPTION', 'RESPONSES']::text[]",
            name=op.f("ck_engine_version_endpoints"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'deprecated', 'yanked')", name=op.f("ck_engine_version_status")
        ),
        sa.ForeignKeyConstraint(
            ["engine_id"], ["engine.id"], name=op.f("fk_engine_version_engine_id_engine"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_version")),
    )
    op.create_index(
        op.f("ix_engine_version_device_architecture_status"),
        "engine_version",
        ["device_architecture", "status"],
        unique=False,
    )
    op.create_index(
        op.f("ix_engine_version_engine_id_version_device_architecture"),
        "engine_version",
        ["engine_id", "version", "device_architecture"],
        unique=True,
    )
    op.create_table(
        "hardware_price",
        sa.Column("hardware_id", sa.BigInteger(), nullable=False),
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("instance_type", sa.Text(), nullable=False),
        sa.Column("devices_per_instance", sa.Integer(), nullable=False),
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("on_demand_per_hour", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("spot_per_hour", sa.Numeric(precision=14, scale=6), nullable=True),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_hardware_price_currency_format")),
        sa.CheckConstraint("devices_per_instance > 0", name=op.f("ck_hardware_price_devices_positive")),
        sa.CheckConstraint("on_demand_per_hour >= 0", name=op.f("ck_hardware_price_on_demand_not_negative")),
        sa.CheckConstraint(
            "spot_per_hour IS NULL OR spot_per_hour >= 0", name=op.f("ck_hardware_price_spot_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["hardware_id"],
            ["hardware.id"],
            name=op.f("fk_hardware_price_hardware_id_hardware"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_hardware_price_provider_id_provider"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hardware_price")),
    )
    op.create_index(
        op.f("ix_hardware_price_hardware_id_provider_id_region_instance_type_as_of"),
        "hardware_price",
        ["hardware_id", "provider_id", "region", "instance_type", "as_of"],
        unique=True,
    )
    op.create_index(
        op.f("ix_hardware_price_on_demand_per_hour"), "hardware_price", ["on_demand_per_hour"], unique=False
    )
    op.create_index(op.f("ix_hardware_price_provider_id"), "hardware_price", ["provider_id"], unique=False)
    op.create_table(
        "model",
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("source_kind", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("architecture", sa.Text(), nullable=True),
        sa.Column("modality", sa.Text(), nullable=False),
        sa.Column("parameter_count", sa.BigInteger(), nullable=True),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("license_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "modality IN ('text', 'vision-language', 'audio', 'embedding', 'classification', 'image-generation')",
            name=op.f("ck_model_modality"),
        ),
        sa.CheckConstraint(
            "source_kind IN ('huggingface', 'url', 'upload', 'cloud')", name=op.f("ck_model_source_kind")
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'ready', 'failed', 'archived')", name=op.f("ck_model_status")
        ),
        sa.CheckConstraint(
            "context_length IS NULL OR context_length > 0", name=op.f("ck_model_context_length_positive")
        ),
        sa.CheckConstraint(
            "parameter_count IS NULL OR parameter_count > 0", name=op.f("ck_model_parameter_count_positive")
        ),
        sa.ForeignKeyConstraint(
            ["license_id"], ["license.id"], name=op.f("fk_model_license_id_license"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model")),
    )
    op.create_index(op.f("ix_model_architecture"), "model", ["architecture"], unique=False)
    op.create_index(op.f("ix_model_license_id"), "model", ["license_id"], unique=False)
    op.create_index(op.f("ix_model_parameter_count"), "model", ["parameter_count"], unique=False)
    op.create_index(op.f("ix_model_source_kind_uri"), "model", ["source_kind", "uri"], unique=True)
    op.create_table(
        "parser_rule",
        sa.Column("engine_id", sa.BigInteger(), nullable=False),
        sa.Column("rule_type", sa.Text(), nullable=False),
        sa.Column("parser", sa.Text(), nullable=False),
        sa.Column("match_type", sa.Text(), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "match_type IN ('exact', 'prefix', 'regex')", name=op.f("ck_parser_rule_match_type")
        ),
        sa.CheckConstraint("rule_type IN ('tool', 'reasoning')", name=op.f("ck_parser_rule_rule_type")),
        sa.CheckConstraint("length(pattern) > 0", name=op.f("ck_parser_rule_pattern_not_empty")),
        sa.ForeignKeyConstraint(
            ["engine_id"], ["engine.id"], name=op.f("fk_parser_rule_engine_id_engine"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parser_rule")),
    )
    op.create_index(
        op.f("ix_parser_rule_engine_id_rule_type_match_type_pattern"),
        "parser_rule",
        ["engine_id", "rule_type", "match_type", "pattern"],
        unique=True,
    )
    op.create_table(
        "provider_model",
        sa.Column("provider_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("input_per_million", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("output_per_million", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("cache_read_per_million", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("cache_write_per_million", sa.Numeric(precision=18, scale=8), nullable=True),
        sa.Column("max_input_tokens", sa.Integer(), nullable=True),
        sa.Column("max_output_tokens", sa.Integer(), nullable=True),
        sa.Column("supports_function_calling", sa.Boolean(), nullable=False),
        sa.Column("supports_vision", sa.Boolean(), nullable=False),
        sa.Column("supports_reasoning", sa.Boolean(), nullable=False),
        sa.Column("supports_prompt_caching", sa.Boolean(), nullable=False),
        sa.Column("supports_response_schema", sa.Boolean(), nullable=False),
        sa.Column("deprecation_date", sa.Date(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.CheckConstraint(
            "mode IN ('chat', 'completion', 'embedding', 'responses', 'rerank', 'moderation')",
            name=op.f("ck_provider_model_mode"),
        ),
        sa.CheckConstraint(
            "coalesce(input_per_million, 0) >= 0 AND coalesce(output_per_million, 0) >= 0 AND coalesce(cache_read_per_million, 0) >= 0 AND coalesce(cache_write_per_million, 0) >= 0",
            name=op.f("ck_provider_model_prices_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
            name=op.f("fk_provider_model_provider_id_provider"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_model")),
    )
    op.create_index(
        op.f("ix_provider_model_input_per_million"), "provider_model", ["input_per_million"], unique=False
    )
    op.create_index(
        op.f("ix_provider_model_provider_id_model_id"),
        "provider_model",
        ["provider_id", "model_id"],
        unique=True,
    )
    op.create_table(
        "compatibility_edge",
        sa.Column("engine_version_id", sa.BigInteger(), nullable=False),
        sa.Column("architecture_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields", sa.ARRAY(sa.Text()), server_default=sa.text("'{}'::text[]"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["architecture_id"],
            ["model_architecture.id"],
            name=op.f("fk_compatibility_edge_architecture_id_model_architecture"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["engine_version_id"],
            ["engine_version.id"],
            name=op.f("fk_compatibility_edge_engine_version_id_engine_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compatibility_edge")),
    )
    op.create_index(
        op.f("ix_compatibility_edge_architecture_id"), "compatibility_edge", ["architecture_id"], unique=False
    )
    op.create_index(
        op.f("ix_compatibility_edge_engine_version_id_architecture_id"),
        "compatibility_edge",
        ["engine_version_id", "architecture_id"],
        unique=True,
    )
    op.create_table(
        "leaderboard_entry",
        sa.Column("benchmark_id", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=True),
        sa.Column("raw_model_name", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(precision=20, scale=6), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["benchmark_id"],
            ["benchmark.id"],
            name=op.f("fk_leaderboard_entry_benchmark_id_benchmark"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_leaderboard_entry_model_id_model"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_entry")),
    )
    op.create_index(
        op.f("ix_leaderboard_entry_benchmark_id_score"),
        "leaderboard_entry",
        ["benchmark_id", "score"],
        unique=False,
    )
    op.create_index(op.f("ix_leaderboard_entry_model_id"), "leaderboard_entry", ["model_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_leaderboard_entry_model_id"), table_name="leaderboard_entry")
    op.drop_index(op.f("ix_leaderboard_entry_benchmark_id_score"), table_name="leaderboard_entry")
    op.drop_table("leaderboard_entry")
    op.drop_index(
        op.f("ix_compatibility_edge_engine_version_id_architecture_id"), table_name="compatibility_edge"
    )
    op.drop_index(op.f("ix_compatibility_edge_architecture_id"), table_name="compatibility_edge")
    op.drop_table("compatibility_edge")
    op.drop_index(op.f("ix_provider_model_provider_id_model_id"), table_name="provider_model")
    op.drop_index(op.f("ix_provider_model_input_per_million"), table_name="provider_model")
    op.drop_table("provider_model")
    op.drop_index(op.f("ix_parser_rule_engine_id_rule_type_match_type_pattern"), table_name="parser_rule")
    op.drop_table("parser_rule")
    op.drop_index(op.f("ix_model_source_kind_uri"), table_name="model")
    op.drop_index(op.f("ix_model_parameter_count"), table_name="model")
    op.drop_index(op.f("ix_model_license_id"), table_name="model")
    op.drop_index(op.f("ix_model_architecture"), table_name="model")
    op.drop_table("model")
    op.drop_index(op.f("ix_hardware_price_provider_id"), table_name="hardware_price")
    op.drop_index(op.f("ix_hardware_price_on_demand_per_hour"), table_name="hardware_price")
    op.drop_index(
        op.f("ix_hardware_price_hardware_id_provider_id_region_instance_type_as_of"),
        table_name="hardware_price",
    )
    op.drop_table("hardware_price")
    op.drop_index(
        op.f("ix_engine_version_engine_id_version_device_architecture"), table_name="engine_version"
    )
    op.drop_index(op.f("ix_engine_version_device_architecture_status"), table_name="engine_version")
    op.drop_table("engine_version")
    op.drop_table("registry_state")
    op.drop_table("provider")
    op.drop_index(op.f("ix_model_architecture_family"), table_name="model_architecture")
    op.drop_table("model_architecture")
    op.drop_table("license")
    op.drop_index(op.f("ix_hardware_vendor"), table_name="hardware")
    op.drop_index(op.f("ix_hardware_device_architecture"), table_name="hardware")
    op.drop_table("hardware")
    op.drop_table("engine")
    op.drop_index(op.f("ix_change_log_registry_version"), table_name="change_log")
    op.drop_index(op.f("ix_change_log_entity_kind_entity_id"), table_name="change_log")
    op.drop_table("change_log")
    op.drop_table("benchmark")
    op.drop_table("api_key")
