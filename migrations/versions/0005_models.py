"""Models: one Hub model per case-insensitive id, the reason an extraction failed, exact aliases.

- ``model.extraction_error``: why the latest extraction failed (the model's status is then `failed`).
- Hub ids are case-insensitive, so ``lower(uri)`` is unique among Hub models. Models that already
  differ only in case are merged first into one (the extracted one, else the oldest): their jobs,
  scan results, leaderboard entries and aliases move to it, the others are deleted.
- ``model_alias.alias`` is kept exactly as typed; the new ``key`` (its matching form: case,
  punctuation and organisation normalised) is what is unique. Aliases stored before were already
  normalised, so their keys are computed from them.

Downgrade drops the index, the column and the key again; merged models stay merged.

Revision ID: 0005
Revises: 0007
Create Date: 2026-12-01 21:10:00.000000
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HUB_INDEX = "uq_model_huggingface_uri_lower"
HUB_ONLY = "source_kind = 'huggingface'"
MODEL_REFERENCES = ("job", "scan_result", "model_file", "leaderboard_entry", "model_alias")


def _alias_key(alias: str) -> str:
    """``leaderboards.matching.name_key`` as it is at this revision (frozen here on purpose)."""
    joined = re.sub(r"[^a-z0-9.]+", "-", alias.strip().lower().rpartition("/")[2])
    return re.sub(r"-{2,}", "-", re.sub(r"(?<![0-9])\.|\.(?![0-9])", "-", joined)).strip("-")


def _merge_case_duplicates() -> None:
    op.execute(
        f"""
        CREATE TEMPORARY TABLE model_merge ON COMMIT DROP AS
        SELECT id AS duplicate, keep FROM (
            SELECT id, first_value(id) OVER (
                PARTITION BY lower(uri) ORDER BY (status = 'ready') DESC, id
            ) AS keep
            FROM model WHERE {HUB_ONLY}
        ) ranked
        WHERE id <> keep
        """
    )
    for table in MODEL_REFERENCES:
        op.execute(
            f"UPDATE {table} SET model_id = m.keep FROM model_merge m WHERE {table}.model_id = m.duplicate"
        )
    op.execute("DELETE FROM model USING model_merge m WHERE model.id = m.duplicate")
    op.execute("DROP TABLE model_merge")


def upgrade() -> None:
    op.add_column("model", sa.Column("extraction_error", sa.Text(), nullable=True))
    _merge_case_duplicates()
    op.create_index(
        HUB_INDEX, "model", [sa.text("lower(uri)")], unique=True, postgresql_where=sa.text(HUB_ONLY)
    )

    op.add_column("model_alias", sa.Column("key", sa.Text(), nullable=True))
    connection = op.get_bind()
    seen: set[str] = set()
    for alias_id, alias in connection.execute(sa.text("SELECT id, alias FROM model_alias ORDER BY id")):
        key = _alias_key(alias) or alias.strip().lower()
        if key in seen:  # cannot happen for normalised aliases; never fail an upgrade over it
            connection.execute(sa.text("DELETE FROM model_alias WHERE id = :id"), {"id": alias_id})
            continue
        seen.add(key)
        connection.execute(
            sa.text("UPDATE model_alias SET key = :key WHERE id = :id"), {"key": key, "id": alias_id}
        )
    op.alter_column("model_alias", "key", nullable=False)
    op.drop_constraint(op.f("uq_model_alias_alias"), "model_alias", type_="unique")
    op.create_unique_constraint(op.f("uq_model_alias_key"), "model_alias", ["key"])


def downgrade() -> None:
    op.drop_constraint(op.f("uq_model_alias_key"), "model_alias", type_="unique")
    # Before this revision an alias was unique as stored; keep the first of any that collide.
    op.execute("DELETE FROM model_alias a USING model_alias b WHERE a.alias = b.alias AND a.id > b.id")
    op.create_unique_constraint(op.f("uq_model_alias_alias"), "model_alias", ["alias"])
    op.drop_column("model_alias", "key")
    op.drop_index(HUB_INDEX, table_name="model")
    op.drop_column("model", "extraction_error")
