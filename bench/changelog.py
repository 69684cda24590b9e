"""Change-log rows for generated entities, written as budgraph's recorder writes them.

A runtime syncing the generated registry must see every generated row in `changes(since:)`, with its
natural key and its values as the graph names them (references as global ids). Serialising each
row through ``as_json_snapshot`` is the recorder's own path but costs ~50 us a row; at 10x that is
most of the generation time, so each kind's defaults are serialised once and a row only
serialises the fields it sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import inspect
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from budgraph.registry.snapshots import as_json_snapshot, field_value, natural_key_columns, recorded_columns

ACTOR = "bench-generator"
CHANGE_COLUMNS = (
    "registry_version",
    "entity_kind",
    "entity_id",
    "operation",
    "changed_fields",
    "actor",
    "entity_key",
    "before",
    "after",
)


def defaults(cls: type[Any]) -> dict[str, Any]:
    """The value a row of ``cls`` has in each recorded column it does not set: null, or an empty
    array or object for the NOT NULL array and JSON columns."""
    columns = {attr.key: attr.columns[0] for attr in inspect(cls).column_attrs}
    found: dict[str, Any] = {}
    for name in recorded_columns(cls):
        column = columns[name]
        if isinstance(column.type, ARRAY):
            found[name] = []
        elif isinstance(column.type, JSONB):
            found[name] = {}
        else:
            found[name] = None
    return found


@dataclass
class KindWriter:
    """Serialises created rows of one kind: its natural key and all its recorded fields."""

    cls: type[Any]
    base: dict[str, Any] = field(init=False)
    fields: list[str] = field(init=False)
    key_columns: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.base = as_json_snapshot(self.cls, defaults(self.cls))
        self.fields = list(recorded_columns(self.cls))
        self.key_columns = natural_key_columns(self.cls)

    def created(self, version: int, values: dict[str, Any]) -> tuple[Any, ...]:
        after = dict(self.base)
        for name, value in values.items():
            if name in after:
                after[name] = field_value(self.cls, name, value)
        key = {name: after[name] for name in self.key_columns}
        return (
            version,
            self.cls.__name__,
            values["id"],
            "create",
            self.fields,
            ACTOR,
            orjson.dumps(key, option=orjson.OPT_SORT_KEYS).decode(),
            None,
            orjson.dumps(after, option=orjson.OPT_SORT_KEYS).decode(),
        )

    def updated(
        self, version: int, entity_id: int, key: dict[str, Any], before: dict[str, Any], after: dict[str, Any]
    ) -> tuple[Any, ...]:
        json_key = {name: field_value(self.cls, name, value) for name, value in key.items()}
        return (
            version,
            self.cls.__name__,
            entity_id,
            "update",
            sorted(after),
            ACTOR,
            orjson.dumps(json_key, option=orjson.OPT_SORT_KEYS).decode(),
            orjson.dumps(as_json_snapshot(self.cls, before)).decode(),
            orjson.dumps(as_json_snapshot(self.cls, after)).decode(),
        )


def created_rows(
    writer: KindWriter, version: int, rows: Iterable[dict[str, Any]]
) -> Iterator[tuple[Any, ...]]:
    return (writer.created(version, row) for row in rows)
