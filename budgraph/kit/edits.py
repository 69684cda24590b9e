"""Applying writes to rows while remembering which fields an operator (or a seed) set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from budgraph.db.base import ProvenanceMixin


def apply_operator_edit(row: ProvenanceMixin, changes: Mapping[str, Any]) -> set[str]:
    """Set fields from the API and mark them edited, so re-seeding leaves them alone."""
    changed = {name for name, value in changes.items() if getattr(row, name) != value}
    for name in changed:
        setattr(row, name, changes[name])
    if changed:
        row.edited_fields = sorted(set(row.edited_fields) | changed)
    return changed


def apply_seed(row: ProvenanceMixin, values: Mapping[str, Any]) -> set[str]:
    """Set seeded fields except those an operator edited; returns what changed."""
    edited = set(row.edited_fields)
    changed = {name for name, value in values.items() if name not in edited and getattr(row, name) != value}
    for name in changed:
        setattr(row, name, values[name])
    return changed
