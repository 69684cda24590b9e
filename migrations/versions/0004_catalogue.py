"""Catalogue correctness: equal versions are one version, parser-rule chat templates, per-query and
long-prompt prices, hardware memory named in GB, devices per package.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from budgraph.kit.versions import version_key

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rekey_versions() -> None:
    """Recompute every version key with the current encoding, and refuse to go on while two rows
    of one engine and device hold equal versions (an operator decides which one stays)."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, engine_id, device_architecture, version FROM engine_version")
    ).all()
    seen: dict[tuple[int, str, str], str] = {}
    for row_id, engine_id, device, version in rows:
        key = version_key(version)
        other = seen.setdefault((engine_id, device, key), version)
        if other != version:
            raise RuntimeError(
                f"engine {engine_id} has the equal versions {other!r} and {version!r} for {device};"
                " remove one of them, then migrate again"
            )
        connection.execute(
            sa.text("UPDATE engine_version SET version_key = :key WHERE id = :id"), {"key": key, "id": row_id}
        )


def upgrade() -> None:
    _rekey_versions()
    op.drop_index(
        op.f("ix_engine_version_engine_id_version_device_architecture"), table_name="engine_version"
    )
    op.create_index(
        op.f("ix_engine_version_engine_id_version_key_device_architecture"),
        "engine_version",
        ["engine_id", "version_key", "device_architecture"],
        unique=True,
    )
    op.add_column("parser_rule", sa.Column("chat_template", sa.Text(), nullable=True))
    op.add_column("provider_model", sa.Column("price_per_query", sa.Numeric(18, 8), nullable=True))
    op.add_column(
        "provider_model",
        sa.Column(
            "price_tiers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'[]'::jsonb"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_provider_model_price_per_query_not_negative"),
        "provider_model",
        "coalesce(price_per_query, 0) >= 0",
    )
    op.create_check_constraint(
        op.f("ck_provider_model_price_tiers_array"), "provider_model", "jsonb_typeof(price_tiers) = 'array'"
    )
    op.alter_column("hardware", "memory_gib", new_column_name="memory_gb")
    op.add_column(
        "hardware", sa.Column("devices_per_package", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_check_constraint(
        op.f("ck_hardware_devices_per_package_positive"), "hardware", "devices_per_package > 0"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_hardware_devices_per_package_positive"), "hardware", type_="check")
    op.drop_column("hardware", "devices_per_package")
    op.alter_column("hardware", "memory_gb", new_column_name="memory_gib")
    op.drop_constraint(op.f("ck_provider_model_price_tiers_array"), "provider_model", type_="check")
    op.drop_constraint(
        op.f("ck_provider_model_price_per_query_not_negative"), "provider_model", type_="check"
    )
    op.drop_column("provider_model", "price_tiers")
    op.drop_column("provider_model", "price_per_query")
    op.drop_column("parser_rule", "chat_template")
    op.drop_index(
        op.f("ix_engine_version_engine_id_version_key_device_architecture"), table_name="engine_version"
    )
    op.create_index(
        op.f("ix_engine_version_engine_id_version_device_architecture"),
        "engine_version",
        ["engine_id", "version", "device_architecture"],
        unique=True,
    )
