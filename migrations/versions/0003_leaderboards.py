"""Leaderboards: sources with refresh state, dated snapshots, entries linked to models, aliases.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 18:47:11.021822
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "leaderboard_source",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("homepage_url", sa.Text(), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("validators", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "last_status IS NULL OR last_status IN ('succeeded', 'unchanged', 'failed')",
            name=op.f("ck_leaderboard_source_last_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_source")),
        sa.UniqueConstraint("key", name=op.f("uq_leaderboard_source_key")),
    )
    op.create_table(
        "model_alias",
        sa.Column("alias", sa.Text(), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["model_id"], ["model.id"], name=op.f("fk_model_alias_model_id_model"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_alias")),
        sa.UniqueConstraint("alias", name=op.f("uq_model_alias_alias")),
    )
    op.create_table(
        "leaderboard_snapshot",
        sa.Column("source_id", sa.BigInteger(), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_on", sa.Date(), nullable=True),
        sa.Column("entry_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["job.id"], name=op.f("fk_leaderboard_snapshot_job_id_job"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["leaderboard_source.id"],
            name=op.f("fk_leaderboard_snapshot_source_id_leaderboard_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leaderboard_snapshot")),
    )
    op.create_index(
        op.f("ix_leaderboard_snapshot_source_id_fetched_at"),
        "leaderboard_snapshot",
        ["source_id", "fetched_at"],
        unique=False,
    )
    op.add_column("benchmark", sa.Column("source_key", sa.Text(), nullable=True))
    op.add_column("benchmark", sa.Column("scale", sa.Text(), nullable=True))
    op.create_index(op.f("ix_benchmark_source_key"), "benchmark", ["source_key"], unique=False)
    # Entries written before snapshots existed cannot be placed in time: none were ever written.
    op.execute("DELETE FROM leaderboard_entry")
    op.add_column("leaderboard_entry", sa.Column("snapshot_id", sa.BigInteger(), nullable=False))
    op.add_column("leaderboard_entry", sa.Column("match_method", sa.Text(), nullable=True))
    op.add_column(
        "leaderboard_entry",
        sa.Column("extra", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.drop_index(op.f("ix_leaderboard_entry_benchmark_id_score"), table_name="leaderboard_entry")
    op.create_index(
        op.f("ix_leaderboard_entry_benchmark_id_snapshot_id_score"),
        "leaderboard_entry",
        ["benchmark_id", "snapshot_id", "score"],
        unique=False,
    )
    op.create_index(
        op.f("ix_leaderboard_entry_snapshot_id_raw_model_name"),
        "leaderboard_entry",
        ["snapshot_id", "raw_model_name"],
        unique=False,
    )
    op.create_foreign_key(
        op.f("fk_leaderboard_entry_snapshot_id_leaderboard_snapshot"),
        "leaderboard_entry",
        "leaderboard_snapshot",
        ["snapshot_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_constraint(op.f("ck_job_kind"), "job", type_="check")
    op.create_check_constraint(
        op.f("ck_job_kind"), "job", "kind IN ('extract', 'scan', 'leaderboard_refresh')"
    )
    op.add_column(
        "job",
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )


def downgrade() -> None:
    op.execute("DELETE FROM job WHERE kind = 'leaderboard_refresh'")
    op.drop_column("job", "params")
    op.drop_constraint(op.f("ck_job_kind"), "job", type_="check")
    op.create_check_constraint(op.f("ck_job_kind"), "job", "kind IN ('extract', 'scan')")
    op.drop_constraint(
        op.f("fk_leaderboard_entry_snapshot_id_leaderboard_snapshot"), "leaderboard_entry", type_="foreignkey"
    )
    op.drop_index(op.f("ix_leaderboard_entry_snapshot_id_raw_model_name"), table_name="leaderboard_entry")
    op.drop_index(op.f("ix_leaderboard_entry_benchmark_id_snapshot_id_score"), table_name="leaderboard_entry")
    op.create_index(
        op.f("ix_leaderboard_entry_benchmark_id_score"),
        "leaderboard_entry",
        ["benchmark_id", "score"],
        unique=False,
    )
    op.drop_column("leaderboard_entry", "extra")
    op.drop_column("leaderboard_entry", "match_method")
    op.drop_column("leaderboard_entry", "snapshot_id")
    op.drop_index(op.f("ix_benchmark_source_key"), table_name="benchmark")
    op.drop_column("benchmark", "scale")
    op.drop_column("benchmark", "source_key")
    op.drop_index(op.f("ix_leaderboard_snapshot_source_id_fetched_at"), table_name="leaderboard_snapshot")
    op.drop_table("leaderboard_snapshot")
    op.drop_table("model_alias")
    op.drop_table("leaderboard_source")
