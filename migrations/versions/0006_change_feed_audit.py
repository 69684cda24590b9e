"""Change feed: the registry's epoch, and each change's natural key and values before and after.

Revision ID: 0006
Revises: 0003
Create Date: 2026-11-24 09:12:40.118305
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "registry_state",
        sa.Column("epoch", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
    )
    op.add_column(
        "change_log",
        sa.Column("entity_key", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False),
    )
    op.add_column("change_log", sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("change_log", sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("change_log", "after")
    op.drop_column("change_log", "before")
    op.drop_column("change_log", "entity_key")
    op.drop_column("registry_state", "epoch")
