"""The change log is the outbox of the registry's events (issue 11, "Sync for runtimes"): one row
records how far the Dapr publisher got, the id of the last change-log row it published and marked.

Revision ID: 0015
Revises: 0014

Change-log rows get their ids under the registry version lock, so ids grow in commit order and
"every row after the mark" is exactly what is still unpublished; no per-row flag, no second index,
no write on the change log itself. The row starts at 0: a registry that turns publishing on later
publishes its whole log first.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "change_publication",
        sa.Column("id", sa.BigInteger(), server_default=sa.text("1"), nullable=False),
        sa.Column("change_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_change_publication_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_publication")),
    )
    op.execute("INSERT INTO change_publication (id, change_id) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("change_publication")
