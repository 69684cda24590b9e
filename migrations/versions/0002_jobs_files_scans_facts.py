"""Jobs, model files, scan results, and the facts extraction finds about a model.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 18:27:35.355482
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=True),
        sa.Column("revision", sa.Text(), nullable=True),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("step", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("kind IN ('extract', 'scan')", name=op.f("ck_job_kind")),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')", name=op.f("ck_job_status")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_job_attempts_not_negative")),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name=op.f("ck_job_progress_range")),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_job_model_id_model"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    op.create_index(
        op.f("ix_job_dedupe_key"),
        "job",
        ["dedupe_key"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.create_index(op.f("ix_job_model_id_created_at"), "job", ["model_id", "created_at"], unique=False)
    op.create_index(op.f("ix_job_status_heartbeat_at"), "job", ["status", "heartbeat_at"], unique=False)
    op.create_table(
        "model_file",
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("revision", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("object_key", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f("ck_model_file_sha256_format")),
        sa.CheckConstraint("size >= 0", name=op.f("ck_model_file_size_not_negative")),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_model_file_model_id_model"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_file")),
    )
    op.create_index(
        op.f("ix_model_file_model_id_revision_path"),
        "model_file",
        ["model_id", "revision", "path"],
        unique=True,
    )
    op.create_table(
        "scan_result",
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=False),
        sa.Column("scanner", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "severity IS NULL OR severity IN ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL')",
            name=op.f("ck_scan_result_severity"),
        ),
        sa.CheckConstraint(
            "status IN ('CLEAN', 'FINDING', 'NOT_SCANNED', 'ERROR')", name=op.f("ck_scan_result_status")
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_scan_result_job_id_job"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_scan_result_model_id_model"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_result")),
    )
    op.create_index(
        op.f("ix_scan_result_model_id_job_id"), "scan_result", ["model_id", "job_id"], unique=False
    )
    op.add_column("model", sa.Column("revision", sa.Text(), server_default="main", nullable=False))
    op.add_column("model", sa.Column("model_type", sa.Text(), nullable=True))
    op.add_column("model", sa.Column("layers", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("hidden_size", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("attention_heads", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("kv_heads", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("head_dim", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("vocab_size", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("dtype", sa.Text(), nullable=True))
    op.add_column("model", sa.Column("quantization_method", sa.Text(), nullable=True))
    op.add_column("model", sa.Column("quantization_bits", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("experts_total", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("experts_active", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("active_parameter_count", sa.BigInteger(), nullable=True))
    op.add_column("model", sa.Column("weight_bytes", sa.BigInteger(), nullable=True))
    op.add_column("model", sa.Column("kv_cache_bytes_per_token", sa.BigInteger(), nullable=True))
    op.add_column("model", sa.Column("sliding_window", sa.Integer(), nullable=True))
    op.add_column("model", sa.Column("base_models", sa.ARRAY(sa.Text()), server_default="{}", nullable=False))
    op.add_column("model", sa.Column("languages", sa.ARRAY(sa.Text()), server_default="{}", nullable=False))
    op.add_column("model", sa.Column("datasets", sa.ARRAY(sa.Text()), server_default="{}", nullable=False))
    op.add_column("model", sa.Column("tags", sa.ARRAY(sa.Text()), server_default="{}", nullable=False))
    op.add_column("model", sa.Column("pipeline_tag", sa.Text(), nullable=True))
    op.add_column("model", sa.Column("license_name", sa.Text(), nullable=True))
    op.add_column("model", sa.Column("gated", sa.Boolean(), nullable=True))
    op.add_column(
        "model",
        sa.Column(
            "fact_sources", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
    )
    op.add_column(
        "model", sa.Column("extraction_warnings", sa.ARRAY(sa.Text()), server_default="{}", nullable=False)
    )
    op.add_column("model", sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("model", sa.Column("scan_status", sa.Text(), nullable=True))
    op.add_column("model", sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=True))
    op.create_check_constraint(
        op.f("ck_model_scan_status"),
        "model",
        "scan_status IS NULL OR scan_status IN ('CLEAN', 'UNSAFE', 'ERROR')",
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_model_scan_status"), "model", type_="check")
    op.drop_column("model", "scanned_at")
    op.drop_column("model", "scan_status")
    op.drop_column("model", "extracted_at")
    op.drop_column("model", "extraction_warnings")
    op.drop_column("model", "fact_sources")
    op.drop_column("model", "gated")
    op.drop_column("model", "license_name")
    op.drop_column("model", "pipeline_tag")
    op.drop_column("model", "tags")
    op.drop_column("model", "datasets")
    op.drop_column("model", "languages")
    op.drop_column("model", "base_models")
    op.drop_column("model", "sliding_window")
    op.drop_column("model", "kv_cache_bytes_per_token")
    op.drop_column("model", "weight_bytes")
    op.drop_column("model", "active_parameter_count")
    op.drop_column("model", "experts_active")
    op.drop_column("model", "experts_total")
    op.drop_column("model", "quantization_bits")
    op.drop_column("model", "quantization_method")
    op.drop_column("model", "dtype")
    op.drop_column("model", "vocab_size")
    op.drop_column("model", "head_dim")
    op.drop_column("model", "kv_heads")
    op.drop_column("model", "attention_heads")
    op.drop_column("model", "hidden_size")
    op.drop_column("model", "layers")
    op.drop_column("model", "model_type")
    op.drop_column("model", "revision")
    op.drop_index(op.f("ix_scan_result_model_id_job_id"), table_name="scan_result")
    op.drop_table("scan_result")
    op.drop_index(op.f("ix_model_file_model_id_revision_path"), table_name="model_file")
    op.drop_table("model_file")
    op.drop_index(op.f("ix_job_status_heartbeat_at"), table_name="job")
    op.drop_index(op.f("ix_job_model_id_created_at"), table_name="job")
    op.drop_index(
        op.f("ix_job_dedupe_key"),
        table_name="job",
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.drop_table("job")
