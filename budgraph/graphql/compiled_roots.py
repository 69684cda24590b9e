"""Root fields answered by a compiled statement (see budgraph/graphql/compiled.py): a root's rows'
statement, compiled once per selection and shape, and how its rows become the field's value (a
connection's cursors and page info are written here, from the rows' sort keys)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import GraphQLObjectType, get_named_type
from sqlalchemy import Select, Text, cast, func, literal_column

from budgraph.graphql.compiled import ANSWER, KEYSET, KNOWN, TOTAL, Compiler, Expression, first_page
from budgraph.graphql.compiled_selection import Item, NotCompiled
from budgraph.kit.cursors import encode_cursor
from budgraph.kit.ordering import SortKey, ordering_id, statement_sort_keys
from budgraph.kit.pagination import PageRequest
from budgraph.registry.position import split_position, with_position
from budgraph.registry.repository import RegistryPosition
from budgraph.settings import Settings


@dataclass(frozen=True)
class RootQuery:
    """What a root field reads: its rows' ordered statement (bind parameters for the values the
    request gives; built only when the compiled statement of its shape is not kept yet), the
    values, and a key that tells statements of different shapes apart."""

    statement: Callable[[], Select[Any]]
    values: dict[str, Any]
    shape: Any
    request: Any = None  # what a feed's ``finish`` needs of the request (its checked arguments)
    # How many rows the whole list holds, when it has a stored count (else its rows are counted).
    total: Callable[[], Select[Any] | None] | None = None
    # Whether what the root lists exists (a one-value statement, read with the rows): when it
    # reads false the answer is the executor's (its typed error), not an empty list.
    known: Callable[[], Select[Any]] | None = None


# Writes a feed root's object from the request, the position read with the rows, the rows, and
# each list key's JSON objects (raises NotCompiled to hand the request to the executor).
Finish = Callable[[Item, Any, RegistryPosition, list[Any], dict[str, list[Any]]], dict[str, Any]]


@dataclass(frozen=True)
class Feed:
    """A root whose value is an object around one list of the rows (the change feed): ``items``
    is the list's field; ``finish`` writes the whole object."""

    items: str
    finish: Finish
    columns: tuple[str, ...] = ()  # the table's columns ``finish`` reads of the rows (a cursor's)


@dataclass(frozen=True)
class CompiledRoot:
    """A root field answered by a compiled statement: one object (``listed`` False) or a
    connection's first page of the type's rows."""

    target: str
    listed: bool
    query: Callable[[Mapping[str, Any], Settings], RootQuery]  # of the field's arguments
    feed: Feed | None = None


@dataclass
class CompiledAnswer:
    """One root field's compiled statement and how its rows become the field's value."""

    root: CompiledRoot
    item: Item
    type_name: str  # the field's GraphQL type (a connection's, for ``__typename``)
    edge_type: str  # a connection's edge type (``__typename`` of its edges)
    read: Any  # kit.direct_reads.CompiledRead
    values: dict[str, Any]  # the statement's own parameters; a request adds its own
    ordering: str
    keys: int
    page: PageRequest | None

    def value(self, rows: list[Any], query: RootQuery) -> tuple[RegistryPosition, Any]:
        position, found = split_position(rows)
        feed = self.root.feed
        if feed is not None:
            assert self.item.selection is not None
            lists = {
                part.key: [orjson.Fragment(row[f"{ANSWER}_{part.key}"]) for row in found]
                for part in self.item.selection
                if part.name == feed.items
            }
            return position, feed.finish(self.item, query.request, position, found, lists)
        if not self.root.listed:
            return position, orjson.Fragment(found[0][ANSWER]) if found else None
        assert self.item.selection is not None
        assert self.page is not None
        if query.known is not None and not rows[0][KNOWN]:
            raise NotCompiled("what the root lists does not exist (the executor words the error)")
        size = self.page.size
        listed = found[:size]
        total = rows[0][TOTAL]
        labels = [f"{KEYSET}{i}" for i in range(self.keys)]

        def cursor(row: Any) -> str:
            return encode_cursor(self.ordering, tuple(row[label] for label in labels))

        out: dict[str, Any] = {}
        for part in self.item.selection:
            if part.name == "__typename":
                out[part.key] = self.type_name
            elif part.name == "nodes":
                out[part.key] = [orjson.Fragment(row[ANSWER]) for row in listed]
            elif part.name == "totalCount":
                out[part.key] = int(total)
            elif part.name == "edges":
                assert part.selection is not None
                out[part.key] = [self._edge(part.selection, row, cursor, self.edge_type) for row in listed]
            elif part.name == "pageInfo":
                assert part.selection is not None
                out[part.key] = self._page_info(part.selection, listed, len(found) > size, cursor)
        return position, out

    @staticmethod
    def _edge(
        items: tuple[Item, ...], row: Any, cursor: Callable[[Any], str], type_name: str
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in items:
            if item.name == "__typename":
                out[item.key] = type_name
            elif item.name == "cursor":
                out[item.key] = cursor(row)
            elif item.name == "node":
                out[item.key] = orjson.Fragment(row[f"{ANSWER}_{item.key}"])
        return out

    @staticmethod
    def _page_info(
        items: tuple[Item, ...], listed: list[Any], more: bool, cursor: Callable[[Any], str]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in items:
            if item.name == "__typename":
                out[item.key] = "PageInfo"
            elif item.name == "hasNextPage":
                out[item.key] = more
            elif item.name == "hasPreviousPage":
                out[item.key] = False
            elif item.name == "startCursor":
                out[item.key] = cursor(listed[0]) if listed else None
            elif item.name == "endCursor":
                out[item.key] = cursor(listed[-1]) if listed else None
        return out


def compile_root(
    compiler: Compiler,
    root: CompiledRoot,
    item: Item,
    type_name: str,
    query: RootQuery,
    read_of: Callable[[Select[Any]], Any],
) -> CompiledAnswer:
    """The statement of one root field's selection (the caller keeps it per selection and shape)."""
    statement = query.statement()
    target = root.target
    table = compiler.shapes[target].table
    if root.feed is not None:
        assert item.selection is not None
        objects = [
            cast(compiler.object(target, table, part.selection, bare=frozenset({table})), Text).label(
                f"{ANSWER}_{part.key}"
            )
            for part in item.selection
            if part.name == root.feed.items and part.selection is not None
        ]
        kept = [table.c[name] for name in root.feed.columns]
        fed = statement.with_only_columns(*kept, *objects, maintain_column_froms=True)
        return CompiledAnswer(root, item, type_name, "", read_of(with_position(fed)), {}, "", 0, None)
    if not root.listed:
        assert item.selection is not None
        answer = cast(compiler.object(target, table, item.selection, bare=frozenset({table})), Text).label(
            ANSWER
        )
        single = statement.with_only_columns(answer, maintain_column_froms=True).limit(1)
        return CompiledAnswer(root, item, type_name, "", read_of(with_position(single)), {}, "", 0, None)
    assert item.selection is not None
    page = first_page(item.args)
    keys: list[SortKey] = statement_sort_keys(statement)
    columns: list[Any] = [key.expression.label(f"{KEYSET}{i}") for i, key in enumerate(keys)]
    counted = False
    for part in item.selection:
        if part.name == "nodes":
            assert part.selection is not None
            node = compiler.object(target, table, part.selection, bare=frozenset({table}))
            columns.append(cast(node, Text).label(ANSWER))
        elif part.name == "edges":
            assert part.selection is not None
            for edge_part in part.selection:
                if edge_part.name == "node":
                    assert edge_part.selection is not None
                    node = compiler.object(target, table, edge_part.selection, bare=frozenset({table}))
                    columns.append(cast(node, Text).label(f"{ANSWER}_{edge_part.key}"))
                elif edge_part.name not in ("cursor", "__typename"):
                    raise NotCompiled(edge_part.name)
        elif part.name == "totalCount":
            counted = True
        elif part.name == "pageInfo":
            assert part.selection is not None
            for info in part.selection:
                if info.name not in (
                    "__typename",
                    "hasNextPage",
                    "hasPreviousPage",
                    "startCursor",
                    "endCursor",
                ):
                    raise NotCompiled(info.name)
        elif part.name != "__typename":
            raise NotCompiled(part.name)
    # the page and one more (whether a next one follows); the size is part of the selection's key,
    # so it is written into the SQL, where the planner sees it (kit/direct_reads.py)
    listed = statement.with_only_columns(*columns, maintain_column_froms=True).limit(page.size + 1)
    stored = query.total() if query.total is not None else None
    total: Expression = literal_column("NULL")
    if counted and stored is not None:
        total = stored.scalar_subquery()
    elif counted:
        total = (
            statement.with_only_columns(func.count(), maintain_column_froms=True)
            .order_by(None)
            .scalar_subquery()
        )
    values: dict[str, Any] = {}
    extra = [total.label(TOTAL)]
    if query.known is not None:
        extra.append(query.known().scalar_subquery().label(KNOWN))
    read = read_of(with_position(listed, extra=extra))
    connection = compiler.schema.get_type(type_name)
    assert isinstance(connection, GraphQLObjectType)
    edge_type = get_named_type(connection.fields["edges"].type).name
    return CompiledAnswer(root, item, type_name, edge_type, read, values, ordering_id(keys), len(keys), page)
