"""Upstream engine releases and quantization support (issue 10).

- ``upstream_release``: one published release of an engine (unique per engine and version order),
  with the artifact it was read from; ``upstream_architecture`` / ``upstream_dropped_architecture``
  / ``upstream_quantization``: what its code declares, each with the file and symbol.
- ``quantization_support``: typed rows per engine version (method, device, minimum compute
  capability, activation dtypes, origin `release` / `seed` / `api`).
- ``engine_version.upstream_release_id``: the release a build packages; ``withdrawn_architectures``
  and ``withdrawn_quantization``: what an operator removed although the release declares it.

Downgrade drops them again (the releases and quantization rows are lost).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 07:22:41.701129
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "upstream_release",
        sa.Column("engine_id", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("version_key", sa.Text(collation="C"), nullable=False),
        sa.Column("artifact", sa.Text(), nullable=False),
        sa.Column("artifact_sha256", sa.Text(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "artifact_sha256 IS NULL OR artifact_sha256 ~ '^[0-9a-f]{64}$'",
            name=op.f("ck_upstream_release_artifact_sha256_format"),
        ),
        sa.CheckConstraint("length(artifact) > 0", name=op.f("ck_upstream_release_artifact_not_empty")),
        sa.ForeignKeyConstraint(
            ["engine_id"],
            ["engine.id"],
            name=op.f("fk_upstream_release_engine_id_engine"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_release")),
    )
    op.create_index(
        "ix_upstream_release_by_engine_id_version_key_desc_id",
        "upstream_release",
        ["engine_id", sa.literal_column("version_key DESC"), "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_upstream_release_engine_id_version_key"),
        "upstream_release",
        ["engine_id", "version_key"],
        unique=True,
    )
    op.create_table(
        "upstream_architecture",
        sa.Column("release_id", sa.BigInteger(), nullable=False),
        sa.Column("architecture_id", sa.BigInteger(), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("endpoints", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("supports_pipeline_parallelism", sa.Boolean(), nullable=True),
        sa.Column("supports_lora", sa.Boolean(), nullable=True),
        sa.Column("multimodal", sa.Boolean(), nullable=False),
        sa.Column("gguf_architecture", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_symbol", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "endpoints <@ ARRAY['CHAT', 'COMPLETION', 'EMBEDDING', 'CLASSIFY', 'RERANK', 'TRANSCRIPTION', 'RESPONSES']::text[]",
            name=op.f("ck_upstream_architecture_endpoints"),
        ),
        sa.CheckConstraint(
            "task IN ('generate', 'multimodal', 'embedding', 'cross-encoder', 'transcription')",
            name=op.f("ck_upstream_architecture_task"),
        ),
        sa.ForeignKeyConstraint(
            ["architecture_id"],
            ["model_architecture.id"],
            name=op.f("fk_upstream_architecture_architecture_id_model_architecture"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["upstream_release.id"],
            name=op.f("fk_upstream_architecture_release_id_upstream_release"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_architecture")),
    )
    op.create_index(
        op.f("ix_upstream_architecture_architecture_id"),
        "upstream_architecture",
        ["architecture_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_upstream_architecture_release_id_architecture_id"),
        "upstream_architecture",
        ["release_id", "architecture_id"],
        unique=True,
    )
    op.create_table(
        "upstream_dropped_architecture",
        sa.Column("release_id", sa.BigInteger(), nullable=False),
        sa.Column("class_name", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_symbol", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "length(class_name) > 0", name=op.f("ck_upstream_dropped_architecture_class_name_not_empty")
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["upstream_release.id"],
            name=op.f("fk_upstream_dropped_architecture_release_id_upstream_release"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_dropped_architecture")),
    )
    op.create_index(
        op.f("ix_upstream_dropped_architecture_release_id_class_name"),
        "upstream_dropped_architecture",
        ["release_id", "class_name"],
        unique=True,
    )
    op.create_table(
        "upstream_quantization",
        sa.Column("release_id", sa.BigInteger(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("source_file", sa.Text(), nullable=False),
        sa.Column("source_symbol", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("device_architecture", sa.Text(), nullable=False),
        sa.Column("min_compute_capability", sa.Text(), nullable=True),
        sa.Column("activation_dtypes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.CheckConstraint(
            "device_architecture IN ('CUDA', 'ROCM', 'CPU', 'HPU')",
            name=op.f("ck_upstream_quantization_device_architecture"),
        ),
        sa.CheckConstraint(
            "method ~ '^[a-z0-9][a-z0-9_.-]*$'", name=op.f("ck_upstream_quantization_method_format")
        ),
        sa.CheckConstraint(
            "min_compute_capability IS NULL OR min_compute_capability ~ '^[0-9]+\\.[0-9]+$'",
            name=op.f("ck_upstream_quantization_min_compute_capability_format"),
        ),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["upstream_release.id"],
            name=op.f("fk_upstream_quantization_release_id_upstream_release"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upstream_quantization")),
    )
    op.create_index(
        op.f("ix_upstream_quantization_release_id_method_device_architecture"),
        "upstream_quantization",
        ["release_id", "method", "device_architecture"],
        unique=True,
    )
    op.create_table(
        "quantization_support",
        sa.Column("engine_version_id", sa.BigInteger(), nullable=False),
        sa.Column("source_file", sa.Text(), nullable=True),
        sa.Column("source_symbol", sa.Text(), nullable=True),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("origin", sa.Text(), server_default="api", nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column(
            "edited_fields",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("device_architecture", sa.Text(), nullable=False),
        sa.Column("min_compute_capability", sa.Text(), nullable=True),
        sa.Column("activation_dtypes", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.CheckConstraint(
            "device_architecture IN ('CUDA', 'ROCM', 'CPU', 'HPU')",
            name=op.f("ck_quantization_support_device_architecture"),
        ),
        sa.CheckConstraint(
            "method ~ '^[a-z0-9][a-z0-9_.-]*$'", name=op.f("ck_quantization_support_method_format")
        ),
        sa.CheckConstraint(
            "min_compute_capability IS NULL OR min_compute_capability ~ '^[0-9]+\\.[0-9]+$'",
            name=op.f("ck_quantization_support_min_compute_capability_format"),
        ),
        sa.CheckConstraint(
            "origin IN ('release', 'seed', 'api')", name=op.f("ck_quantization_support_origin")
        ),
        sa.ForeignKeyConstraint(
            ["engine_version_id"],
            ["engine_version.id"],
            name=op.f("fk_quantization_support_engine_version_id_engine_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quantization_support")),
    )
    op.create_index(
        "ix_quantization_support_by_engine_version_id_method_id",
        "quantization_support",
        ["engine_version_id", "method", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quantization_support_device_architecture_method"),
        "quantization_support",
        ["device_architecture", "method"],
        unique=False,
    )
    op.create_index(
        op.f("ix_quantization_support_engine_version_id_method"),
        "quantization_support",
        ["engine_version_id", "method"],
        unique=True,
    )
    op.add_column("engine_version", sa.Column("upstream_release_id", sa.BigInteger(), nullable=True))
    op.add_column(
        "engine_version",
        sa.Column(
            "withdrawn_architectures",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.add_column(
        "engine_version",
        sa.Column(
            "withdrawn_quantization",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
    )
    op.create_index(
        op.f("ix_engine_version_upstream_release_id"), "engine_version", ["upstream_release_id"], unique=False
    )
    op.create_foreign_key(
        op.f("fk_engine_version_upstream_release_id_upstream_release"),
        "engine_version",
        "upstream_release",
        ["upstream_release_id"],
        ["id"],
        ondelete="RESTRICT",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_engine_version_upstream_release_id_upstream_release"), "engine_version", type_="foreignkey"
    )
    op.drop_index(op.f("ix_engine_version_upstream_release_id"), table_name="engine_version")
    op.drop_column("engine_version", "withdrawn_quantization")
    op.drop_column("engine_version", "withdrawn_architectures")
    op.drop_column("engine_version", "upstream_release_id")
    op.drop_index(op.f("ix_quantization_support_engine_version_id_method"), table_name="quantization_support")
    op.drop_index(
        op.f("ix_quantization_support_device_architecture_method"), table_name="quantization_support"
    )
    op.drop_index("ix_quantization_support_by_engine_version_id_method_id", table_name="quantization_support")
    op.drop_table("quantization_support")
    op.drop_index(
        op.f("ix_upstream_quantization_release_id_method_device_architecture"),
        table_name="upstream_quantization",
    )
    op.drop_table("upstream_quantization")
    op.drop_index(
        op.f("ix_upstream_dropped_architecture_release_id_class_name"),
        table_name="upstream_dropped_architecture",
    )
    op.drop_table("upstream_dropped_architecture")
    op.drop_index(
        op.f("ix_upstream_architecture_release_id_architecture_id"), table_name="upstream_architecture"
    )
    op.drop_index(op.f("ix_upstream_architecture_architecture_id"), table_name="upstream_architecture")
    op.drop_table("upstream_architecture")
    op.drop_index(op.f("ix_upstream_release_engine_id_version_key"), table_name="upstream_release")
    op.drop_index("ix_upstream_release_by_engine_id_version_key_desc_id", table_name="upstream_release")
    op.drop_table("upstream_release")
