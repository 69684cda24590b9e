"""Indexes that read every list in its orders (issue 9), replacing the single-column ones they lead with.

Revision ID: 0008
Revises: 0005

Frozen here on purpose (budgraph/db/read_indexes.py declares the same indexes for the ORM; the
migration test checks that they agree): a later change of an order needs its own revision.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns): each list order with its tie-breaks, directions and NULL placement.
READ_INDEXES: list[tuple[str, str, str]] = [
    ("api_key", "ix_api_key_by_name_id", "name, id"),
    ("benchmark", "ix_benchmark_by_key_id", "key, id"),
    ("change_log", "ix_change_log_by_registry_version_id", "registry_version, id"),
    ("engine", "ix_engine_by_created_at_desc_id", "created_at DESC NULLS LAST, id"),
    ("engine", "ix_engine_by_created_at_id", "created_at, id"),
    ("engine", "ix_engine_by_name_desc_id", "name DESC NULLS LAST, id"),
    ("engine", "ix_engine_by_name_id", "name, id"),
    ("engine", "ix_engine_by_slug_desc_id", "slug DESC NULLS LAST, id"),
    ("engine", "ix_engine_by_slug_id", "slug, id"),
    (
        "hardware",
        "ix_hardware_by_memory_bandwidth_gbps_desc_name_id",
        "memory_bandwidth_gbps DESC NULLS LAST, name, id",
    ),
    ("hardware", "ix_hardware_by_memory_bandwidth_gbps_name_id", "memory_bandwidth_gbps, name, id"),
    ("hardware", "ix_hardware_by_memory_gb_desc_name_id", "memory_gb DESC NULLS LAST, name, id"),
    ("hardware", "ix_hardware_by_memory_gb_name_id", "memory_gb, name, id"),
    ("hardware", "ix_hardware_by_name_desc_id", "name DESC NULLS LAST, id"),
    ("hardware", "ix_hardware_by_name_id", "name, id"),
    (
        "hardware",
        "ix_hardware_by_peak_bf16_tflops_desc_name_id",
        "peak_bf16_tflops DESC NULLS LAST, name, id",
    ),
    ("hardware", "ix_hardware_by_peak_bf16_tflops_name_id", "peak_bf16_tflops, name, id"),
    ("hardware", "ix_hardware_by_release_year_desc_name_id", "release_year DESC NULLS LAST, name, id"),
    ("hardware", "ix_hardware_by_release_year_name_id", "release_year, name, id"),
    ("license", "ix_license_by_key_desc_id", "key DESC NULLS LAST, id"),
    ("license", "ix_license_by_key_id", "key, id"),
    ("license", "ix_license_by_kind_desc_id", "kind DESC NULLS LAST, id"),
    ("license", "ix_license_by_kind_id", "kind, id"),
    ("license", "ix_license_by_name_desc_id", "name DESC NULLS LAST, id"),
    ("license", "ix_license_by_name_id", "name, id"),
    ("model_architecture", "ix_model_architecture_by_class_name_desc_id", "class_name DESC NULLS LAST, id"),
    ("model_architecture", "ix_model_architecture_by_class_name_id", "class_name, id"),
    ("model_architecture", "ix_model_architecture_by_created_at_desc_id", "created_at DESC NULLS LAST, id"),
    ("model_architecture", "ix_model_architecture_by_created_at_id", "created_at, id"),
    ("model_architecture", "ix_model_architecture_by_family_desc_id", "family DESC NULLS LAST, id"),
    ("model_architecture", "ix_model_architecture_by_family_id", "family, id"),
    ("provider", "ix_provider_by_created_at_desc_nf_id", "created_at DESC, id"),
    ("provider", "ix_provider_by_created_at_id", "created_at, id"),
    ("provider", "ix_provider_by_name_desc_nf_id", "name DESC, id"),
    ("provider", "ix_provider_by_name_id", "name, id"),
    ("provider", "ix_provider_by_slug_desc_nf_id", "slug DESC, id"),
    ("provider", "ix_provider_by_slug_id", "slug, id"),
    (
        "engine_version",
        "ix_engine_version_by_created_at_desc_device_architectu_dea8495d",
        "created_at DESC NULLS LAST, device_architecture, id DESC",
    ),
    (
        "engine_version",
        "ix_engine_version_by_created_at_device_architecture_id",
        "created_at, device_architecture, id",
    ),
    (
        "engine_version",
        "ix_engine_version_by_engine_id_created_at_desc_device__cf8b922a",
        "engine_id, created_at DESC NULLS LAST, device_architecture, id DESC",
    ),
    (
        "engine_version",
        "ix_engine_version_by_engine_id_created_at_device_archi_002e625c",
        "engine_id, created_at, device_architecture, id",
    ),
    (
        "engine_version",
        "ix_engine_version_by_engine_id_release_date_desc_devic_14064424",
        "engine_id, release_date DESC NULLS LAST, device_architecture, id DESC",
    ),
    (
        "engine_version",
        "ix_engine_version_by_engine_id_release_date_device_arc_d3944946",
        "engine_id, release_date, device_architecture, id",
    ),
    (
        "engine_version",
        "ix_engine_version_by_engine_id_version_key_desc_device_20bdc590",
        "engine_id, version_key DESC NULLS LAST, device_architecture, id DESC",
    ),
    (
        "engine_version",
        "ix_engine_version_by_engine_id_version_key_device_arch_302d152a",
        "engine_id, version_key, device_architecture, id",
    ),
    (
        "engine_version",
        "ix_engine_version_by_release_date_desc_device_architec_5ba18f79",
        "release_date DESC NULLS LAST, device_architecture, id DESC",
    ),
    (
        "engine_version",
        "ix_engine_version_by_release_date_device_architecture_id",
        "release_date, device_architecture, id",
    ),
    (
        "engine_version",
        "ix_engine_version_by_version_key_desc_device_architect_f4c84fa3",
        "version_key DESC NULLS LAST, device_architecture, id DESC",
    ),
    (
        "engine_version",
        "ix_engine_version_by_version_key_device_architecture_id",
        "version_key, device_architecture, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_as_of_desc_on_demand_per_hour_id",
        "as_of DESC NULLS LAST, on_demand_per_hour, id",
    ),
    ("hardware_price", "ix_hardware_price_by_as_of_on_demand_per_hour_id", "as_of, on_demand_per_hour, id"),
    (
        "hardware_price",
        "ix_hardware_price_by_hardware_id_as_of_desc_on_demand__0f3597c8",
        "hardware_id, as_of DESC NULLS LAST, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_hardware_id_as_of_on_demand_per_hour_id",
        "hardware_id, as_of, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_hardware_id_on_demand_per_hour_desc_id",
        "hardware_id, on_demand_per_hour DESC NULLS LAST, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_hardware_id_on_demand_per_hour_id",
        "hardware_id, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_hardware_id_spot_per_hour_desc_on_86e27113",
        "hardware_id, spot_per_hour DESC NULLS LAST, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_hardware_id_spot_per_hour_on_dema_1b51e946",
        "hardware_id, spot_per_hour, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_on_demand_per_hour_desc_id",
        "on_demand_per_hour DESC NULLS LAST, id",
    ),
    ("hardware_price", "ix_hardware_price_by_on_demand_per_hour_id", "on_demand_per_hour, id"),
    (
        "hardware_price",
        "ix_hardware_price_by_provider_id_as_of_desc_on_demand__e3cabfbe",
        "provider_id, as_of DESC NULLS LAST, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_provider_id_as_of_on_demand_per_hour_id",
        "provider_id, as_of, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_provider_id_on_demand_per_hour_desc_id",
        "provider_id, on_demand_per_hour DESC NULLS LAST, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_provider_id_on_demand_per_hour_id",
        "provider_id, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_provider_id_spot_per_hour_desc_on_54bdd22c",
        "provider_id, spot_per_hour DESC NULLS LAST, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_provider_id_spot_per_hour_on_dema_9f0e7758",
        "provider_id, spot_per_hour, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_spot_per_hour_desc_on_demand_per_hour_id",
        "spot_per_hour DESC NULLS LAST, on_demand_per_hour, id",
    ),
    (
        "hardware_price",
        "ix_hardware_price_by_spot_per_hour_on_demand_per_hour_id",
        "spot_per_hour, on_demand_per_hour, id",
    ),
    ("model", "ix_model_by_context_length_desc_id", "context_length DESC NULLS LAST, id"),
    ("model", "ix_model_by_context_length_id", "context_length, id"),
    ("model", "ix_model_by_created_at_desc_id", "created_at DESC NULLS LAST, id"),
    ("model", "ix_model_by_created_at_id", "created_at, id"),
    ("model", "ix_model_by_parameter_count_desc_id", "parameter_count DESC NULLS LAST, id"),
    ("model", "ix_model_by_parameter_count_id", "parameter_count, id"),
    ("model", "ix_model_by_uri_desc_id", "uri DESC NULLS LAST, id"),
    ("model", "ix_model_by_uri_id", "uri, id"),
    ("parser_rule", "ix_parser_rule_by_created_at_desc_id", "created_at DESC NULLS LAST, id"),
    ("parser_rule", "ix_parser_rule_by_created_at_id", "created_at, id"),
    ("parser_rule", "ix_parser_rule_by_engine_id_priority_desc_nf_id", "engine_id, priority DESC, id"),
    ("parser_rule", "ix_parser_rule_by_parser_desc_id", "parser DESC NULLS LAST, id"),
    ("parser_rule", "ix_parser_rule_by_parser_id", "parser, id"),
    ("parser_rule", "ix_parser_rule_by_pattern_desc_id", "pattern DESC NULLS LAST, id"),
    ("parser_rule", "ix_parser_rule_by_pattern_id", "pattern, id"),
    ("parser_rule", "ix_parser_rule_by_priority_desc_id", "priority DESC NULLS LAST, id"),
    ("parser_rule", "ix_parser_rule_by_priority_id", "priority, id"),
    (
        "provider_model",
        "ix_provider_model_by_input_per_million_desc_model_id_id",
        "input_per_million DESC NULLS LAST, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_input_per_million_model_id_id",
        "input_per_million, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_max_input_tokens_desc_model_id_id",
        "max_input_tokens DESC NULLS LAST, model_id, id",
    ),
    ("provider_model", "ix_provider_model_by_max_input_tokens_model_id_id", "max_input_tokens, model_id, id"),
    ("provider_model", "ix_provider_model_by_model_id_desc_id", "model_id DESC NULLS LAST, id"),
    ("provider_model", "ix_provider_model_by_model_id_id", "model_id, id"),
    (
        "provider_model",
        "ix_provider_model_by_output_per_million_desc_model_id_id",
        "output_per_million DESC NULLS LAST, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_output_per_million_model_id_id",
        "output_per_million, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_input_per_million_des_f660e8b2",
        "provider_id, input_per_million DESC NULLS LAST, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_input_per_million_model_id_id",
        "provider_id, input_per_million, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_max_input_tokens_desc_7dfc4cea",
        "provider_id, max_input_tokens DESC NULLS LAST, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_max_input_tokens_model_id_id",
        "provider_id, max_input_tokens, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_model_id_desc_id",
        "provider_id, model_id DESC NULLS LAST, id",
    ),
    ("provider_model", "ix_provider_model_by_provider_id_model_id_id", "provider_id, model_id, id"),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_output_per_million_de_013a424c",
        "provider_id, output_per_million DESC NULLS LAST, model_id, id",
    ),
    (
        "provider_model",
        "ix_provider_model_by_provider_id_output_per_million_model_id_id",
        "provider_id, output_per_million, model_id, id",
    ),
    (
        "compatibility_edge",
        "ix_compatibility_edge_by_architecture_id_engine_version_id",
        "architecture_id, engine_version_id",
    ),
    ("job", "ix_job_by_model_id_id", "model_id, id"),
    ("model_alias", "ix_model_alias_by_model_id_key", "model_id, key"),
    (
        "leaderboard_entry",
        "ix_leaderboard_entry_by_benchmark_id_snapshot_id_score_06af06c0",
        "benchmark_id, snapshot_id, score DESC NULLS LAST, raw_model_name, id",
    ),
    (
        "leaderboard_entry",
        "ix_leaderboard_entry_by_benchmark_id_snapshot_id_score_a37bff01",
        "benchmark_id, snapshot_id, score, raw_model_name, id",
    ),
]

# Single-column indexes that an index above now leads with (it serves their lookups too).
SUPERSEDED: list[tuple[str, str, str]] = [
    ("model", "ix_model_parameter_count", "parameter_count"),
    ("model_architecture", "ix_model_architecture_family", "family"),
    ("compatibility_edge", "ix_compatibility_edge_architecture_id", "architecture_id"),
    ("change_log", "ix_change_log_registry_version", "registry_version"),
    ("hardware_price", "ix_hardware_price_provider_id", "provider_id"),
    ("hardware_price", "ix_hardware_price_on_demand_per_hour", "on_demand_per_hour"),
    ("provider_model", "ix_provider_model_input_per_million", "input_per_million"),
    (
        "leaderboard_entry",
        "ix_leaderboard_entry_benchmark_id_snapshot_id_score",
        "benchmark_id, snapshot_id, score",
    ),
]


def upgrade() -> None:
    for table, name, columns in READ_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} ({columns})")
    for _, name, _ in SUPERSEDED:
        op.execute(f"DROP INDEX {name}")


def downgrade() -> None:
    for table, name, columns in SUPERSEDED:
        op.execute(f"CREATE INDEX {name} ON {table} ({columns})")
    for _, name, _ in READ_INDEXES:
        op.execute(f"DROP INDEX {name}")
