"""Whole documents in one statement: PostgreSQL writes the answer's JSON.

A dashboard's page (50 models, each with its license, its architecture and three engine versions
of it) or a model two levels deep is answered by one statement whose rows hold the answer's JSON:
a selection set becomes a ``json_build_object`` call, a relationship a correlated subquery, and a
nested list an ordered, limited subquery collected into a JSON array, in the list's own order
(its repository's statement). PostgreSQL does the work the executor would do object by object,
and the JSON goes into the answer unparsed (``orjson.Fragment``). The compiled SQL is kept per
selection; the values a root field reads (a uri, a page size) are bind parameters.

What a type can answer this way is its ``TableShape``: the plain fields of its strawberry type
whose value is a column of its table, written by SQL as the schema's serializer writes it (derived
from the GraphQL type: strings, numbers, booleans, enums, dates, decimals, lists, global ids),
plus the relationships its domain declares. Anything else in a document (a field resolved in
Python, cursors of a nested list, a page after a cursor) leaves it to the ordinary executor; the
tests answer the same documents both ways and compare (``tests/graph/test_compiled_answers.py``).
The selection tree is in ``compiled_selection.py``, root fields and their rows in ``compiled_roots.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    get_named_type,
)
from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Numeric,
    Select,
    Text,
    case,
    cast,
    false,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import FromClause
from sqlalchemy.sql.elements import KeyedColumnElement

from budgraph.graphql.compiled_selection import Item, NotCompiled
from budgraph.kit.child_pages import ParentKey
from budgraph.kit.pagination import PageRequest

JSON_ARGUMENTS = 100  # PostgreSQL's limit on a function's arguments (json_build_object: 50 keys)
KEYSET = "_k"
ANSWER = "_answer"
TOTAL = "_total"
KNOWN = "_known"


# ---------------------------------------------------------------------------------------------
# What a type reads from SQL


Expression = ColumnElement[Any]
# Which rows a nested list holds for a parent: given the field's arguments (Python names), the
# children's ordered statement (its repository's) and the column that holds each child's parent key.
Children = Callable[[Mapping[str, Any]], tuple[Select[Any], ParentKey]]


@dataclass(frozen=True)
class ToOne:
    """A field whose value is one row of another table (or null): ``on`` joins parent to target."""

    target: str  # the GraphQL type
    on: Callable[[FromClause, FromClause], ColumnElement[bool]]


@dataclass(frozen=True)
class ToMany:
    """A nested list (a connection) of another table's rows; ``parent`` is the parent's column the
    children's parent key equals."""

    target: str
    children: Children
    parent: str


@dataclass(frozen=True)
class ToList:
    """A plain list (no connection) of another table's rows: ``rows`` gives, for a parent row, the
    children's rows (the target table's columns) and the expression they are listed by."""

    target: str
    rows: Callable[[FromClause], tuple[FromClause, Expression]]


@dataclass(frozen=True)
class Written:
    """A field whose JSON its domain writes in SQL, from the row and the field's selection."""

    write: Callable[[FromClause, tuple[Item, ...]], Expression]


@dataclass(frozen=True)
class TableShape:
    """How a GraphQL object type reads from its table."""

    type_name: str
    entity: Any  # the mapped class (``db.Model``)
    relations: Mapping[str, ToOne | ToMany | ToList | Written] = field(default_factory=dict)
    # Fields whose value is a column of another name (python name -> the mapped attribute's key).
    renamed: Mapping[str, str] = field(default_factory=dict)
    # Fields written by an expression of their own (python name -> expression of the row).
    computed: Mapping[str, Callable[[FromClause], Expression]] = field(default_factory=dict)
    # Fields Python derives from a column of the same name (a rounding, say): the executor's.
    refused: frozenset[str] = frozenset()

    @property
    def table(self) -> Any:
        return self.entity.__table__

    def column(self, row: FromClause, python_name: str) -> KeyedColumnElement[Any] | None:
        """The row's column that holds ``python_name``, if the entity has one."""
        key = self.renamed.get(python_name, python_name)
        mapper = inspect(self.entity)
        attribute = mapper.attrs.get(key)
        columns = getattr(attribute, "columns", None)
        if not columns:
            return None
        found: KeyedColumnElement[Any] = row.c[columns[0].name]
        return found


def global_id(type_name: str, key: Expression) -> Expression:
    """``kit.ids.to_global_id`` in SQL: url-safe base64 of ``Type:pk``, without padding."""
    return global_id_of(literal_column(_quoted(type_name), Text), key)


def global_id_of(type_name: Expression, key: Expression) -> Expression:
    """``kit.ids.to_global_id`` of a type named by an expression (the change log's entity kind)."""
    text = type_name.op("||")(literal_column("':'", Text)).op("||")(cast(key, Text))
    encoded = func.encode(func.convert_to(text, literal_column("'UTF8'")), literal_column("'base64'"))
    # url-safe, and without the line breaks PostgreSQL puts in every 76 characters
    safe = func.translate(encoded, literal_column("E'+/\\n'"), literal_column("'-_'"))
    return func.rtrim(safe, literal_column("'='"))


def _enum_names(enum: GraphQLEnumType) -> dict[Any, str]:
    """Stored value -> GraphQL name of each enum value."""
    names = {}
    for name, value in enum.values.items():
        stored = value.value.value if isinstance(value.value, Enum) else value.value
        names[stored] = name
    return names


def _leaf(column: Expression, type_: GraphQLOutputType) -> Expression | None:
    """``column`` written as the schema serializes the GraphQL type, or None when SQL cannot."""
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    sql_type = column.type
    if isinstance(type_, GraphQLList):
        item = type_.of_type.of_type if isinstance(type_.of_type, GraphQLNonNull) else type_.of_type
        if not isinstance(sql_type, ARRAY):
            return None
        if isinstance(item, GraphQLEnumType):
            names = _enum_names(item)
            if any(stored != name for stored, name in names.items()):
                return None
            return func.to_json(column)
        if isinstance(item, GraphQLScalarType) and item.name == "String":
            return func.to_json(column)
        return None
    if isinstance(type_, GraphQLEnumType):
        names = _enum_names(type_)
        if all(stored == name for stored, name in names.items()):
            return column
        whens = {stored: literal_column(_quoted(name), Text) for stored, name in names.items()}
        return case(whens, value=column)  # a value no GraphQL name has: null, as the executor errs
    if not isinstance(type_, GraphQLScalarType):
        return None
    name = type_.name
    if name == "String" and isinstance(sql_type, Text):
        return column
    if name == "Boolean" and isinstance(sql_type, Boolean):
        return column
    if name in ("Int", "BigInt") and isinstance(sql_type, Integer | BigInteger):
        return column
    if name == "Float" and isinstance(sql_type, Float):
        return column
    if name == "Date" and isinstance(sql_type, Date):
        return func.to_json(column)  # YYYY-MM-DD, as date.isoformat()
    if name == "DateTime" and isinstance(sql_type, DateTime) and sql_type.timezone:
        return func.to_json(_isoformat(column))
    if name == "Decimal" and isinstance(sql_type, Numeric) and not isinstance(sql_type, Float):
        return cast(func.trim_scale(column), Text)  # format(value.normalize(), "f")
    if name == "JSON" and isinstance(sql_type, JSONB):
        return column
    return None


def timestamp_json(column: Expression) -> Expression:
    """A UTC timestamp's JSON as the schema's ``DateTime`` writes it (for a ``computed`` field)."""
    return func.to_json(_isoformat(column))


def _isoformat(column: Expression) -> Expression:
    """``datetime.isoformat()`` of a UTC timestamp: microseconds only when there are any."""
    utc = column.op("AT TIME ZONE")(literal_column("'UTC'"))
    micro = func.to_char(utc, literal_column("'US'"), type_=Text)
    fraction = case(
        (micro == "000000", literal_column("''", Text)), else_=literal_column("'.'", Text).op("||")(micro)
    )
    seconds = func.to_char(utc, literal_column("'YYYY-MM-DD\"T\"HH24:MI:SS'"), type_=Text)
    return seconds.op("||")(fraction).op("||")(literal_column("'+00:00'", Text))


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# ---------------------------------------------------------------------------------------------
# SQL


def json_object(pairs: list[tuple[str, Expression]]) -> Expression:
    if len(pairs) * 2 > JSON_ARGUMENTS:
        raise NotCompiled("more fields than one json_build_object takes")
    arguments: list[Any] = []
    for key, value in pairs:
        arguments += [literal_column(_quoted(key), Text), value]
    return func.json_build_object(*arguments)


def _strawberry_field(definition: GraphQLField) -> Any:
    return (definition.extensions or {}).get("strawberry-definition")


def first_page(arguments: Mapping[str, Any]) -> PageRequest:
    if any(arguments.get(name) is not None for name in ("after", "before", "last")):
        raise NotCompiled("a page after or before a cursor")
    try:
        return PageRequest.parse(arguments.get("first"))
    except Exception as error:  # a bad size is the executor's error to word
        raise NotCompiled("a bad page size") from error


class Compiler:
    """Builds the statement of one root field's selection from the shapes of its types."""

    def __init__(self, schema: GraphQLSchema, shapes: Mapping[str, TableShape]) -> None:
        self.schema = schema
        self.shapes = shapes

    def _type(self, name: str) -> GraphQLObjectType:
        found = self.schema.get_type(name)
        if not isinstance(found, GraphQLObjectType):
            raise NotCompiled(name)
        return found

    def object(
        self,
        type_name: str,
        row: FromClause,
        items: tuple[Item, ...],
        depth: int = 0,
        bare: frozenset[Any] = frozenset(),
    ) -> Expression:
        """The JSON object of ``items`` of a row of ``type_name``'s table."""
        shape = self.shapes.get(type_name)
        if shape is None:
            raise NotCompiled(f"{type_name} has no table shape")
        graphql_type = self._type(type_name)
        pairs: list[tuple[str, Expression]] = []
        for item in items:
            if item.name == "__typename":
                pairs.append((item.key, literal_column(_quoted(type_name), Text)))
                continue
            definition = graphql_type.fields[item.name]
            if getattr(_strawberry_field(definition), "extensions", None):
                raise NotCompiled(f"{type_name}.{item.name} has field extensions (a permission, say)")
            python_name = _strawberry_field(definition).python_name
            relation = shape.relations.get(python_name)
            if isinstance(relation, Written):
                if item.arguments and any(value is not None for _, value in item.arguments):
                    raise NotCompiled(f"{type_name}.{item.name} takes arguments")
                pairs.append((item.key, relation.write(row, item.selection or ())))
                continue
            if relation is not None:
                pairs.append((item.key, self.relation(relation, row, item, definition, depth, bare)))
                continue
            if item.arguments and any(value is not None for _, value in item.arguments):
                raise NotCompiled(f"{type_name}.{item.name} takes arguments")
            pairs.append((item.key, self.scalar(shape, row, python_name, definition)))
        return json_object(pairs)

    def scalar(
        self, shape: TableShape, row: FromClause, python_name: str, definition: GraphQLField
    ) -> Expression:
        if python_name in shape.refused:
            raise NotCompiled(f"{shape.type_name}.{python_name} is derived in Python")
        computed = shape.computed.get(python_name)
        if computed is not None:
            return computed(row)
        if getattr(_strawberry_field(definition), "base_resolver", None) is not None:
            raise NotCompiled(f"{shape.type_name}.{python_name} resolves in Python")
        if python_name == "id":
            return global_id(shape.type_name, row.c.id)
        column = shape.column(row, python_name)
        written = _leaf(column, definition.type) if column is not None else None
        if written is None:
            raise NotCompiled(f"{shape.type_name}.{python_name} is not a column SQL can write")
        return written

    def relation(
        self,
        relation: ToOne | ToMany | ToList,
        row: FromClause,
        item: Item,
        definition: GraphQLField,
        depth: int,
        bare: frozenset[Any],
    ) -> Expression:
        if depth > 4:
            raise NotCompiled("nested too deep")
        assert item.selection is not None
        target = self.shapes.get(relation.target)
        if target is None:
            raise NotCompiled(relation.target)
        if isinstance(relation, ToOne):
            if item.arguments and any(value is not None for _, value in item.arguments):
                raise NotCompiled(f"{item.name} takes arguments")
            other = target.table.alias()
            found = select(self.object(relation.target, other, item.selection, depth + 1, bare))
            return found.where(relation.on(row, other)).limit(1).scalar_subquery()
        if isinstance(relation, ToList):
            if item.arguments and any(value is not None for _, value in item.arguments):
                raise NotCompiled(f"{item.name} takes arguments")
            children, order = relation.rows(row)
            node = self.object(relation.target, children, item.selection, depth + 1, bare)
            listed = select(node).select_from(children).order_by(order)
            return func.to_json(func.array(listed.scalar_subquery()))
        return self.connection(relation, row, item, definition, depth, bare)

    def connection(
        self,
        relation: ToMany,
        row: FromClause,
        item: Item,
        definition: GraphQLField,
        depth: int,
        bare: frozenset[Any],
    ) -> Expression:
        """A nested connection's JSON: its first page, read in the list's own order."""
        assert item.selection is not None
        arguments = item.args
        page = first_page(arguments)
        children, parent_key = relation.children(arguments)
        of_parent = children.where(parent_key == row.c[relation.parent])
        target_table = self.shapes[relation.target].table
        if target_table in bare:
            # the children's table is read bare (unaliased) further up: their SQL would correlate
            raise NotCompiled(f"{relation.target} nested in itself")
        inner = bare | {target_table}
        connection_type = get_named_type(definition.type)
        pairs: list[tuple[str, Expression]] = []
        for part in item.selection:
            if part.name == "__typename":
                pairs.append((part.key, literal_column(_quoted(connection_type.name), Text)))
            elif part.name == "nodes":
                assert part.selection is not None
                node = self.object(relation.target, target_table, part.selection, depth + 1, inner)
                listed = of_parent.with_only_columns(node, maintain_column_froms=True).limit(page.size)
                pairs.append((part.key, func.to_json(func.array(listed.scalar_subquery()))))
            elif part.name == "totalCount":
                count = of_parent.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
                pairs.append((part.key, count.scalar_subquery()))
            elif part.name == "pageInfo":
                assert part.selection is not None
                pairs.append((part.key, self._page_info(of_parent, page, part.selection)))
            else:
                raise NotCompiled(f"{part.name} of a nested list")
        return json_object(pairs)

    @staticmethod
    def _page_info(of_parent: Select[Any], page: PageRequest, items: tuple[Item, ...]) -> Expression:
        pairs: list[tuple[str, Expression]] = []
        for info in items:
            if info.name == "__typename":
                pairs.append((info.key, literal_column("'PageInfo'", Text)))
            elif info.name == "hasNextPage":
                beyond: Select[Any] = of_parent.with_only_columns(
                    literal_column("1"), maintain_column_froms=True
                )
                pairs.append((info.key, beyond.offset(page.size).limit(1).exists()))
            elif info.name == "hasPreviousPage":
                pairs.append((info.key, false()))  # a first page
            else:
                raise NotCompiled(f"{info.name} of a nested list (cursors go to the executor)")
        return json_object(pairs)
