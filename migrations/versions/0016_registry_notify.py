"""Every change of the registry's version row is announced on the channel `budgraph_registry`
(issue 9, "a response cache ... invalidated exactly when the registry version moves").

Revision ID: 0016
Revises: 0015

A statement trigger on `registry_state` calls `pg_notify` in the writer's transaction, so the
announcement is delivered when (and only if) the new version commits, whoever wrote it: the API,
a worker, the CLI, the seed or an operator's SQL. Each API process listens on the connection
that reads the version (budgraph/registry/position.py) and, while no announcement arrives,
answers from the version it last read instead of reading it for every request.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        CREATE FUNCTION budgraph_registry_moved() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('budgraph_registry', '');
            RETURN NULL;
        END
        $$
        """
    )
    op.execute(
        "CREATE TRIGGER registry_state_moved AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE"
        " ON registry_state FOR EACH STATEMENT EXECUTE FUNCTION budgraph_registry_moved()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER registry_state_moved ON registry_state")
    op.execute("DROP FUNCTION budgraph_registry_moved()")
