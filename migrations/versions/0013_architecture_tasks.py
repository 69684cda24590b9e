"""The further tasks engines' code classes architectures by (issue 10): late interaction,
classification, reward and token classification (SGLang and newer vLLM releases declare them).

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BEFORE = ("generate", "multimodal", "embedding", "cross-encoder", "transcription")
AFTER = (*BEFORE, "late-interaction", "classification", "reward", "token-classification")


def _check(tasks: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_upstream_architecture_task"), "upstream_architecture", type_="check")
    listed = ", ".join(f"'{task}'" for task in tasks)
    op.create_check_constraint(
        op.f("ck_upstream_architecture_task"), "upstream_architecture", f"task IN ({listed})"
    )


def upgrade() -> None:
    _check(AFTER)


def downgrade() -> None:
    op.execute(f"DELETE FROM upstream_architecture WHERE task NOT IN ({', '.join(repr(t) for t in BEFORE)})")
    _check(BEFORE)
