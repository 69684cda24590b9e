"""Answering the hottest runtime queries without graphql-core's executor.

A runtime asks the same few questions thousands of times a second (`latestEngineVersion`,
`compatibleEngineVersions`). For those root fields a *direct* answer is built: the field's read
path fetches everything such a question can select in one statement, and the answer is written
straight from the types' own objects (the same `from_row` conversions, the schema's own scalar
serializers), field by field in document order, with aliases, fragments and `__typename`. The
GraphQL surface is the schema's; only the machinery between a resolved object and its JSON is
skipped.

A document is answered directly only when every field it selects is one the direct answer can
give: the plain fields of the types, and the few relationships the fetch has already loaded (a
``DirectField`` names them). Anything else (another root field, a nested list with arguments,
a directive, a field that fails) goes to the ordinary executor, which gives the same answer; the
tests compare the two on the same data (``tests/graph/test_direct_answers.py``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Undefined
from graphql.utilities import value_from_ast

from budgraph.graphql.compiled import Compiler, TableShape
from budgraph.graphql.compiled_roots import CompiledAnswer, CompiledRoot, RootQuery, compile_root
from budgraph.graphql.compiled_selection import Item, NotCompiled, Selections
from budgraph.graphql.context import Context
from budgraph.kit.direct_reads import CompiledRead, DirectReads
from budgraph.registry.repository import RegistryPosition
from budgraph.settings import Settings, get_settings


class NotDirect(Exception):
    """This document (or this answer) is for the ordinary executor."""


@dataclass
class Prefetched:
    """Values of relationship fields the fetch loaded, by (object, field name)."""

    values: dict[tuple[int, str], Any] = field(default_factory=dict)
    keep: list[Any] = field(default_factory=list)  # the objects keyed by id(): alive until answered
    # The registry position the fetches read at (None when they disagree: then nothing is cached).
    positions: list[RegistryPosition] = field(default_factory=list)
    cursors: bool = True  # whether the root being fetched selects a cursor

    @property
    def position(self) -> RegistryPosition | None:
        return self.positions[0] if self.positions and len(set(self.positions)) == 1 else None

    def put(self, obj: Any, name: str, value: Any) -> None:
        self.keep.append(obj)
        self.values[(id(obj), name)] = value

    def get(self, obj: Any, name: str) -> Any:
        key = (id(obj), name)
        if key not in self.values:
            raise NotDirect(f"{name} was not prefetched")
        return self.values[key]


# A root field's fetch: (the reads, the request's context, its arguments as Python values, where
# prefetched values go) -> the root value (a strawberry object, a Connection, or None).
Fetch = Callable[[DirectReads, Context, dict[str, Any], Prefetched], Awaitable[Any]]


@dataclass(frozen=True)
class DirectField:
    """A root query field that can be answered directly."""

    fetch: Fetch
    # Relationship fields (type, field) the fetch fills in Prefetched; all take no arguments.
    prefetched: frozenset[tuple[str, str]] = frozenset()
    # The fetch gives the field's value as the answer writes it (a compiled statement's JSON).
    finished: bool = False


@dataclass(frozen=True)
class Root:
    node: FieldNode
    definition: GraphQLField
    direct: DirectField
    arguments: dict[str, Any]
    cursors: bool = True  # whether the selection asks for a cursor (else the fetch need not make them)


@dataclass(frozen=True)
class Plan:
    """A document that can be answered directly: its root fields, with their arguments."""

    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    roots: tuple[Root, ...]

    @property
    def prefetched(self) -> frozenset[tuple[str, str]]:
        return frozenset().union(*(root.direct.prefetched for root in self.roots))


def _strawberry_field(definition: GraphQLField) -> Any:
    return (definition.extensions or {}).get("strawberry-definition")


COMPILED_KEPT = 256  # compiled statements kept per process (by root field, selection and shape)
PLANS_KEPT = 1_024  # plans kept per process (by operation and variables)
PLANNED_VARIABLES_BYTES = 2_048  # requests with more variables than this are planned every time


def _plan_key(
    operation: OperationDefinitionNode, variables: dict[str, Any] | None
) -> tuple[int, bytes] | None:
    """What a plan is kept under: the operation and its variables (None: not kept)."""
    if not variables:
        return id(operation), b""
    try:
        written = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return (id(operation), written) if len(written) <= PLANNED_VARIABLES_BYTES else None


def _finished(answer: CompiledAnswer, query: RootQuery) -> DirectField:
    """A root field answered by its compiled statement, with this request's values."""

    async def fetch(
        reads: DirectReads, context: Context, arguments: dict[str, Any], prefetched: Prefetched
    ) -> Any:
        rows = await reads.fetch(answer.read, {**answer.values, **query.values})
        try:
            position, value = answer.value(rows, query)
        except NotCompiled as reason:
            raise NotDirect(str(reason)) from reason
        prefetched.positions.append(position)
        return value

    return DirectField(fetch, finished=True)


class Planner:
    def __init__(
        self,
        schema: GraphQLSchema,
        fields: dict[str, DirectField],
        compiled: Mapping[str, CompiledRoot] | None = None,
        shapes: Mapping[str, TableShape] | None = None,
        settings: Settings | None = None,
    ) -> None:
        self.schema = schema
        self.settings = settings or get_settings()
        self.fields = fields
        self.compiled = compiled or {}
        self.compiler = Compiler(schema, shapes or {})
        # Compiled answers by selection, and the selections found not to compile (the executor's).
        self._answers: OrderedDict[tuple[str, Item, Any], CompiledAnswer | NotCompiled] = OrderedDict()
        # Plans by operation (kept alive here, so its id names it) and variables: a repeated request
        # is planned once (coercing its variables and walking its selections cost more than its read).
        self._plans: OrderedDict[tuple[int, bytes], tuple[OperationDefinitionNode, Plan | None]] = (
            OrderedDict()
        )

    def _compiled(
        self,
        node: FieldNode,
        definition: GraphQLField,
        root: CompiledRoot,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> DirectField:
        query_type = self.schema.query_type
        assert query_type is not None
        selections = Selections(self.schema, fragments, variables, _fields, _arguments)
        key = node.alias.value if node.alias else node.name.value
        item = selections.item(key, [node], query_type)
        query = root.query(item.args, self.settings)
        cache_key = (node.name.value, item, query.shape)
        answer = self._answers.get(cache_key)
        if answer is None:
            type_name = get_named_type(definition.type).name
            try:
                answer = compile_root(self.compiler, root, item, type_name, query, CompiledRead)
            except NotCompiled as refusal:
                answer = refusal  # remembered: compiling is most of the cost of finding out
            self._answers[cache_key] = answer
            if len(self._answers) > COMPILED_KEPT:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(cache_key)
        if isinstance(answer, NotCompiled):
            raise answer
        return _finished(answer, query)

    def plan(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any] | None,
    ) -> Plan | None:
        """A plan for ``operation``, or None when it is for the ordinary executor.

        ``fragments`` are those of the operation's document (a prepared document's, kept with it)."""
        key = _plan_key(operation, variables)
        if key is not None:
            kept = self._plans.get(key)
            if kept is not None and kept[0] is operation:
                self._plans.move_to_end(key)
                return kept[1]
        plan = self._plan(operation, fragments, variables)
        if key is not None:
            self._plans[key] = (operation, plan)
            if len(self._plans) > PLANS_KEPT:
                self._plans.popitem(last=False)
        return plan

    def _plan(
        self,
        operation: OperationDefinitionNode,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any] | None,
    ) -> Plan | None:
        if operation.operation is not OperationType.QUERY or operation.directives:
            return None
        root = self.schema.query_type
        assert root is not None
        # The variables as the executor coerces them (enum names to values, defaults applied).
        found = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if isinstance(found, list):
            return None  # the executor reports the variables' errors
        coerced = found.coerced
        roots = []
        keys: set[str] = set()
        compiled_keys: set[str] = set()
        try:
            for node in _fields(operation.selection_set, fragments, root, self.schema):
                if node.name.value == "__typename":
                    continue
                key = node.alias.value if node.alias else node.name.value
                definition = root.fields.get(node.name.value)
                compiled = self.compiled.get(node.name.value)
                if key in compiled_keys or (compiled is not None and key in keys):
                    return None  # a compiled field's response key twice: the executor merges them
                if definition is not None and compiled is not None:
                    keys.add(key)
                    compiled_keys.add(key)
                    finished = self._compiled(node, definition, compiled, fragments, coerced)
                    roots.append(Root(node, definition, finished, {}))
                    continue
                direct = self.fields.get(node.name.value)
                if direct is None or definition is None:
                    return None
                keys.add(key)
                arguments = _arguments(node, definition, coerced)
                self._check(node.selection_set, get_named_type(definition.type), direct, fragments)
                cursors = _selects(node.selection_set, fragments, CURSOR_FIELDS)
                roots.append(Root(node, definition, direct, arguments, cursors))
        except (NotDirect, NotCompiled):
            return None
        return Plan(operation, fragments, tuple(roots)) if roots else None

    def _check(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        direct: DirectField,
        fragments: dict[str, FragmentDefinitionNode],
    ) -> None:
        if selection_set is None:
            return
        if not isinstance(parent, GraphQLObjectType):
            raise NotDirect(f"{parent.name} is abstract")
        for node in _fields(selection_set, fragments, parent, self.schema):
            name = node.name.value
            if name == "__typename":
                continue
            definition = parent.fields.get(name)
            if definition is None:
                raise NotDirect(name)
            if getattr(_strawberry_field(definition), "extensions", None):
                raise NotDirect(f"{parent.name}.{name} has field extensions (a permission, say)")
            resolver = getattr(_strawberry_field(definition), "base_resolver", None)
            if resolver is not None:
                pure = not resolver.arguments and not resolver.is_async and resolver.info_parameter is None
                if (parent.name, name) not in direct.prefetched and not pure:
                    raise NotDirect(f"{parent.name}.{name} resolves on its own")
                if node.arguments:
                    raise NotDirect(f"{parent.name}.{name} takes arguments")
            target = get_named_type(definition.type)
            if not is_leaf_type(target):
                self._check(node.selection_set, target, direct, fragments)


CURSOR_FIELDS = frozenset({"cursor", "startCursor", "endCursor"})


def _selects(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    names: frozenset[str],
    seen: frozenset[str] = frozenset(),
) -> bool:
    """Whether a field of one of ``names`` is selected anywhere under ``selection_set``."""
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            if selection.name.value in names or _selects(selection.selection_set, fragments, names, seen):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _selects(selection.selection_set, fragments, names, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            name = selection.name.value
            if (
                fragment is not None
                and name not in seen
                and _selects(fragment.selection_set, fragments, names, seen | {name})
            ):
                return True
    return False


def _fields(
    selection_set: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    parent: GraphQLNamedType,
    schema: GraphQLSchema,
    seen: frozenset[str] = frozenset(),
) -> Iterator[FieldNode]:
    """The field nodes of a selection set on ``parent``, fragments expanded, in document order."""
    for selection in selection_set.selections:
        if selection.directives:
            raise NotDirect("a directive")
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            if condition is not None and condition.name.value != parent.name:
                raise NotDirect("a fragment on another type")
            yield from _fields(selection.selection_set, fragments, parent, schema, seen)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen or fragment.type_condition.name.value != parent.name:
                raise NotDirect("a fragment on another type")
            yield from _fields(fragment.selection_set, fragments, parent, schema, seen | {name})


def _arguments(node: FieldNode, definition: GraphQLField, variables: dict[str, Any]) -> dict[str, Any]:
    """The field's arguments as the resolver would get them (Python names, defaults applied)."""
    given = {
        argument.name.value: argument.value
        for argument in node.arguments or ()
        # a variable the request does not give is as if the argument were not written
        if not isinstance(argument.value, VariableNode) or argument.value.name.value in variables
    }
    values: dict[str, Any] = {}
    for name, argument in definition.args.items():
        python_name = getattr(argument.extensions.get("strawberry-definition"), "python_name", name)
        if name in given:
            value = value_from_ast(given[name], argument.type, variables)
            if value is Undefined:
                raise NotDirect(f"argument {name}")
        elif argument.default_value is not Undefined:
            value = argument.default_value
        else:
            value = None
        values[python_name] = value
    return values


class Writer:
    """Writes an answer's ``data`` from resolved objects, as graphql-core would serialize it."""

    def __init__(self, schema: GraphQLSchema, plan: Plan, prefetched: Prefetched) -> None:
        self.schema = schema
        self.plan = plan
        self.fragments = plan.fragments
        self.prefetched = prefetched
        self.prefetched_fields = plan.prefetched

    def data(self, values: dict[int, Any]) -> dict[str, Any]:
        """``data`` of the answer, given each root field node's resolved value (by id of the node)."""
        root = self.schema.query_type
        assert root is not None
        out: dict[str, Any] = {}
        for node in _fields(self.plan.operation.selection_set, self.fragments, root, self.schema):
            key = node.alias.value if node.alias else node.name.value
            if node.name.value == "__typename":
                out[key] = "Query"
                continue
            definition = root.fields[node.name.value]
            if self.finished(node):
                out[key] = values[id(node)]
                continue
            self._put(out, key, self.value(values[id(node)], definition.type, node.selection_set))
        return out

    def finished(self, node: FieldNode) -> bool:
        return any(root.node is node and root.direct.finished for root in self.plan.roots)

    def value(self, value: Any, type_: GraphQLOutputType, selection: SelectionSetNode | None) -> Any:
        if isinstance(type_, GraphQLNonNull):
            if value is None:
                raise NotDirect("a null in a non-null field")
            return self.value(value, type_.of_type, selection)
        if value is None:
            return None
        if isinstance(type_, GraphQLList):
            return [self.value(item, type_.of_type, selection) for item in value]
        if isinstance(type_, GraphQLLeafType):
            return type_.serialize(value)
        if not isinstance(type_, GraphQLObjectType) or selection is None:
            raise NotDirect(f"{type_}")
        return self.object(value, type_, selection)

    def object(self, obj: Any, type_: GraphQLObjectType, selection: SelectionSetNode) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for node in _fields(selection, self.fragments, type_, self.schema):
            key = node.alias.value if node.alias else node.name.value
            name = node.name.value
            if name == "__typename":
                out[key] = type_.name
                continue
            definition = type_.fields[name]
            strawberry_field = _strawberry_field(definition)
            resolver = getattr(strawberry_field, "base_resolver", None)
            if resolver is None:
                raw = getattr(obj, strawberry_field.python_name)
            elif (type_.name, name) in self.prefetched_fields:
                raw = self.prefetched.get(obj, name)
            else:
                raw = resolver.wrapped_func(obj)  # a pure resolver of the object (`Connection.nodes`)
            self._put(out, key, self.value(raw, definition.type, node.selection_set))
        return out

    @staticmethod
    def _put(out: dict[str, Any], key: str, value: Any) -> None:
        """Fields of one response key merge (graphql-core executes their selections together)."""
        earlier = out.get(key)
        if isinstance(earlier, dict) and isinstance(value, dict):
            out[key] = {**earlier, **value}
        elif isinstance(earlier, list) and isinstance(value, list) and len(earlier) == len(value):
            out[key] = [
                {**a, **b} if isinstance(a, dict) and isinstance(b, dict) else b
                for a, b in zip(earlier, value, strict=True)
            ]
        else:
            out[key] = value


class Prefixed:
    """A record's columns as attributes (what the types' ``from_row`` reads); with ``prefix``, only
    the columns that start with it, without it (a joined table's ``engine__id`` ... as an engine)."""

    def __init__(self, row: Any, prefix: str = "") -> None:
        self._mapping = row
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[self._prefix + name]
        except KeyError:
            raise AttributeError(name) from None
