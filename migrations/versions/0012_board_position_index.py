"""A leaderboard page read by stored position (issue 9): an index on (benchmark, snapshot, position,
raw name, id).

Revision ID: 0012
Revises: 0011

A leaderboard is listed best first by its entries' stored ``position`` (``rank()`` in the
benchmark's own direction, so the score's order either way), ties by raw name, then id: one order
for every benchmark, which lets one compiled statement serve every board (the benchmark a bind
parameter, not a direction written into the SQL). This index yields its page in that order. The
score indexes of 0008 stay: other readers list entries by score. Frozen here on purpose
(``budgraph/db/read_indexes.py`` declares the same index for the ORM).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "ix_leaderboard_entry_by_benchmark_id_snapshot_id_posit_e74ce068"


def upgrade() -> None:
    op.execute(
        f"CREATE INDEX {NAME} ON leaderboard_entry (benchmark_id, snapshot_id, position, raw_model_name, id)"
    )


def downgrade() -> None:
    op.execute(f"DROP INDEX {NAME}")
