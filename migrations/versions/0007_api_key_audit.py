"""API keys: expiry, a rate-limit budget of their own, and the audit of key events.

Revision ID: 0007
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("api_key", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_key", sa.Column("rate_limit", sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_api_key_rate_limit_positive"), "api_key", "rate_limit IS NULL OR rate_limit > 0"
    )
    op.create_table(
        "api_key_event",
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("client_address", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.CheckConstraint(
            "kind IN ('created', 'revoked', 'used', 'rate_limit_changed')", name=op.f("ck_api_key_event_kind")
        ),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_api_key_event_api_key_id_api_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key_event")),
    )
    op.create_index(op.f("ix_api_key_event_api_key_id"), "api_key_event", ["api_key_id"], unique=False)
    op.create_index(op.f("ix_api_key_event_occurred_at"), "api_key_event", ["occurred_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_api_key_event_occurred_at"), table_name="api_key_event")
    op.drop_index(op.f("ix_api_key_event_api_key_id"), table_name="api_key_event")
    op.drop_table("api_key_event")
    op.drop_constraint(op.f("ck_api_key_rate_limit_positive"), "api_key", type_="check")
    op.drop_column("api_key", "rate_limit")
    op.drop_column("api_key", "expires_at")
