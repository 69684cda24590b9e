"""The change feed compiled into one statement (see budgraph/graphql/compiled.py): the slice of the
feed, each change's JSON written by PostgreSQL, and the registry position it belongs to, in one
statement (so in one snapshot: a slice never holds a change the position it reports does not
include).

A request the feed refuses (RESYNC_REQUIRED, a bad cursor or size) goes to the executor, which
words the error; so do the changes' `fieldChanges` (they need an API key).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from sqlalchemy import ARRAY, BigInteger, Select, Text, bindparam
from sqlalchemy.sql import FromClause

from budgraph import db
from budgraph.graphql.compiled import Expression, TableShape, global_id_of
from budgraph.graphql.compiled_roots import CompiledRoot, Feed, RootQuery
from budgraph.graphql.compiled_selection import Item, NotCompiled
from budgraph.kit.errors import BudgraphError
from budgraph.registry.feed import FeedRequest, encode_cursor
from budgraph.registry.repository import RegistryPosition, changes_statement
from budgraph.settings import Settings


def _statement(after: bool, kinds: bool) -> Select[Any]:
    return changes_statement(
        bindparam("since", type_=BigInteger),
        (bindparam("after_version", type_=BigInteger), bindparam("after_id", type_=BigInteger))
        if after
        else None,
        bindparam("kinds", type_=ARRAY(Text)) if kinds else None,
        bindparam("limit", type_=BigInteger),
    )


def _changes(arguments: Mapping[str, Any], settings: Settings) -> RootQuery:
    epoch = arguments["epoch"]
    try:
        request = FeedRequest.checked(
            int(arguments["since"]),
            str(epoch) if epoch is not None else None,
            arguments["after"],
            arguments["kinds"],
            arguments["first"],
            settings.max_page_size,
        )
    except BudgraphError as refused:
        raise NotCompiled("a request the feed refuses (the executor words it)") from refused
    values: dict[str, Any] = {"since": request.since, "kinds": request.kinds, "limit": request.first + 1}
    if request.after is not None:
        values["after_version"], values["after_id"] = request.after
    shape = (request.after is not None, request.kinds is not None)
    return RootQuery(partial(_statement, *shape), values, shape, request)


def _finish(
    item: Item, request: FeedRequest, position: RegistryPosition, rows: list[Any], lists: dict[str, list[Any]]
) -> dict[str, Any]:
    """The `RegistryChanges` object of a slice read with one more row than `first`."""
    try:
        request.check_position(position)
    except BudgraphError as refused:
        raise NotCompiled("the client must sync from scratch") from refused
    listed = rows[: request.first]
    out: dict[str, Any] = {}
    assert item.selection is not None
    for part in item.selection:
        if part.name == "__typename":
            out[part.key] = "RegistryChanges"
        elif part.name == "changes":
            out[part.key] = lists[part.key][: request.first]
        elif part.name == "registryVersion":
            out[part.key] = position.version
        elif part.name == "registryEpoch":
            out[part.key] = position.epoch
        elif part.name == "hasMore":
            out[part.key] = len(rows) > request.first
        elif part.name == "endCursor":
            last = listed[-1] if listed else None
            out[part.key] = (
                encode_cursor(last["registry_version"], last["id"]) if last is not None else request.cursor
            )
        else:
            raise NotCompiled(f"RegistryChanges.{part.name}")
    return out


def _entity_id(change: FromClause) -> Expression:
    return global_id_of(change.c.entity_kind, change.c.entity_id)


CHANGES = CompiledRoot(
    "RegistryChange", listed=False, query=_changes, feed=Feed("changes", _finish, ("registry_version", "id"))
)
REGISTRY_CHANGE_SHAPE = TableShape("RegistryChange", db.ChangeLogEntry, computed={"entity_id": _entity_id})
