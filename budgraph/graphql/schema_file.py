"""The committed ``schema.graphql``: written by `budgraph export-schema`, compared by a test."""

from __future__ import annotations

from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def render_schema() -> str:
    from budgraph.graphql.schema import schema

    return schema.as_str().rstrip() + "\n"


def write_schema(path: Path = SCHEMA_FILE) -> bool:
    """Write the schema; returns whether the file changed."""
    text = render_schema()
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8")
    return True
