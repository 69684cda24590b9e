"""Stored standings: each leaderboard entry's position and percentile, written with its snapshot (issue 9).

Revision ID: 0009
Revises: 0008

A standing is the entry's place among the entries of its benchmark in its snapshot, best first in
the benchmark's own direction: ``position`` is ``rank()`` (tied scores share one), ``percentile``
``100 * (1 - percent_rank())`` in double precision, exactly the expressions the reads computed on
every request until now, and ``ranked_among`` how many entries it is ranked among (a leaderboard's
``totalCount``, read from one row instead of counted). They change only when a snapshot is written,
so they are written then (``leaderboards.repository.restand``) and read as plain columns.

The backfill below is frozen here on purpose (the same window as ``restand``, over every snapshot,
history included: a snapshot becomes current again when a later one is deleted). The columns stay
nullable because a writer inserts a snapshot's entries first and stands them in the same transaction
(one UPDATE over a window of the snapshot); the CHECKs keep the three columns set together.

``(model_id, snapshot_id)`` replaces ``(model_id)``: a model's scores read only its entries in the
current snapshots (and it still serves the foreign key's ``ON DELETE SET NULL``).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
UPDATE leaderboard_entry AS target
   SET position = stood.position, percentile = stood.percentile, ranked_among = stood.ranked_among
  FROM (SELECT entry.id,
               rank() OVER best_first AS position,
               100 * (1 - percent_rank() OVER best_first) AS percentile,
               count(*) OVER board AS ranked_among
          FROM leaderboard_entry AS entry JOIN benchmark ON benchmark.id = entry.benchmark_id
        WINDOW best_first AS (
               PARTITION BY entry.benchmark_id, entry.snapshot_id
               ORDER BY CASE WHEN benchmark.higher_is_better THEN entry.score ELSE -entry.score END DESC),
               board AS (PARTITION BY entry.benchmark_id, entry.snapshot_id)
       ) AS stood
 WHERE target.id = stood.id
"""


def upgrade() -> None:
    op.add_column("leaderboard_entry", sa.Column("position", sa.Integer(), nullable=True))
    op.add_column("leaderboard_entry", sa.Column("percentile", sa.Double(), nullable=True))
    op.add_column("leaderboard_entry", sa.Column("ranked_among", sa.Integer(), nullable=True))
    op.execute(BACKFILL)
    op.create_check_constraint(
        op.f("ck_leaderboard_entry_standing_complete"),
        "leaderboard_entry",
        "(position IS NULL) = (percentile IS NULL) AND (position IS NULL) = (ranked_among IS NULL)",
    )
    op.create_check_constraint(
        op.f("ck_leaderboard_entry_standing_range"),
        "leaderboard_entry",
        "position >= 1 AND position <= ranked_among AND percentile >= 0 AND percentile <= 100",
    )
    op.create_index(
        op.f("ix_leaderboard_entry_model_id_snapshot_id"), "leaderboard_entry", ["model_id", "snapshot_id"]
    )
    op.drop_index(op.f("ix_leaderboard_entry_model_id"), table_name="leaderboard_entry")


def downgrade() -> None:
    op.create_index(op.f("ix_leaderboard_entry_model_id"), "leaderboard_entry", ["model_id"])
    op.drop_index(op.f("ix_leaderboard_entry_model_id_snapshot_id"), table_name="leaderboard_entry")
    op.drop_constraint(op.f("ck_leaderboard_entry_standing_range"), "leaderboard_entry", type_="check")
    op.drop_constraint(op.f("ck_leaderboard_entry_standing_complete"), "leaderboard_entry", type_="check")
    op.drop_column("leaderboard_entry", "ranked_among")
    op.drop_column("leaderboard_entry", "percentile")
    op.drop_column("leaderboard_entry", "position")
