"""Exact row counts of the large lists, kept as deltas (issue 9: `totalCount` of an unfiltered list
reads a few rows instead of counting every row).

Revision ID: 0011
Revises: 0010

Each INSERT or DELETE statement on a counted table adds one row to ``row_count_delta`` (how many
rows it added or removed), from a statement-level trigger with its transition table, so no two
writers ever wait for each other; a TRUNCATE drops the table's deltas. The count is the sum of the
table's deltas, which the change recorder folds into one row per table under the registry's
version lock (``budgraph/kit/row_counts.py``). Frozen here on purpose, like every revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COUNTED = ("model",)

FUNCTIONS = [
    """CREATE FUNCTION budgraph_rows_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO row_count_delta (table_name, delta) SELECT TG_TABLE_NAME, count(*) FROM inserted_rows;
  RETURN NULL;
END $$""",
    """CREATE FUNCTION budgraph_rows_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO row_count_delta (table_name, delta) SELECT TG_TABLE_NAME, -count(*) FROM deleted_rows;
  RETURN NULL;
END $$""",
    """CREATE FUNCTION budgraph_rows_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM row_count_delta WHERE table_name = TG_TABLE_NAME;
  RETURN NULL;
END $$""",
]


def upgrade() -> None:
    op.create_table(
        "row_count_delta",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("delta", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_row_count_delta_table_name", "row_count_delta", ["table_name"])
    for function in FUNCTIONS:
        op.execute(function)
    for table in COUNTED:
        op.execute(
            f"CREATE TRIGGER {table}_rows_inserted AFTER INSERT ON {table} REFERENCING NEW TABLE AS"
            " inserted_rows FOR EACH STATEMENT EXECUTE FUNCTION budgraph_rows_inserted()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_rows_deleted AFTER DELETE ON {table} REFERENCING OLD TABLE AS"
            " deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION budgraph_rows_deleted()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_rows_truncated AFTER TRUNCATE ON {table}"
            " FOR EACH STATEMENT EXECUTE FUNCTION budgraph_rows_truncated()"
        )
        op.execute(f"INSERT INTO row_count_delta (table_name, delta) SELECT '{table}', count(*) FROM {table}")


def downgrade() -> None:
    for table in COUNTED:
        for event in ("inserted", "deleted", "truncated"):
            op.execute(f"DROP TRIGGER {table}_rows_{event} ON {table}")
    for event in ("inserted", "deleted", "truncated"):
        op.execute(f"DROP FUNCTION budgraph_rows_{event}()")
    op.drop_index("ix_row_count_delta_table_name", table_name="row_count_delta")
    op.drop_table("row_count_delta")
