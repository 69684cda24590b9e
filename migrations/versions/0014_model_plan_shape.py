"""The shape facts a deployment plan needs (issue 11): how many layers use a sliding window, the
multi-head latent attention ranks (DeepSeek-V2/V3), and the MLP width. Extraction already reads
them from config.json; they are now stored so the KV cache can be sized for any cache dtype and
context, not only the weights' dtype.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("sliding_window_layers", "kv_lora_rank", "qk_rope_head_dim", "intermediate_size")


def upgrade() -> None:
    for name in COLUMNS:
        op.add_column("model", sa.Column(name, sa.Integer(), nullable=True))
    op.create_check_constraint(
        op.f("ck_model_plan_shape_positive"),
        "model",
        " AND ".join(f"coalesce({name}, 1) > 0" for name in COLUMNS),
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_model_plan_shape_positive"), "model", type_="check")
    for name in reversed(COLUMNS):
        op.drop_column("model", name)
