"""The selection of a compiled answer as a hashable tree (see budgraph/graphql/compiled.py): fields
collected as graphql-core collects them, with their arguments as resolvers get them."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
)


class NotCompiled(Exception):
    """This selection is for the ordinary executor."""


@dataclass(frozen=True)
class Item:
    """One response key of a selection set: a field (with its arguments) or ``__typename``."""

    key: str
    name: str
    arguments: tuple[tuple[str, Any], ...] = ()  # hashable: what tells compiled statements apart
    selection: tuple[Item, ...] | None = None
    # The arguments as resolvers get them (input objects as their classes).
    args: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if hasattr(value, "__dict__") and not isinstance(value, Enum):
        return (type(value).__name__, _hashable(vars(value)))
    return value


class Selections:
    """Turns selection sets into ``Item`` trees, as graphql-core collects fields (fragments
    expanded, fields of one response key merged), with each field's arguments as resolvers get them."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        fields: Callable[..., Iterable[FieldNode]],
        arguments: Callable[[FieldNode, GraphQLField, dict[str, Any]], dict[str, Any]],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self._fields = fields
        self._arguments = arguments

    def items(self, nodes: list[FieldNode], parent: GraphQLObjectType) -> tuple[Item, ...]:
        grouped: OrderedDict[str, list[FieldNode]] = OrderedDict()
        for node in nodes:
            if node.selection_set is None:
                continue
            for child in self._fields(node.selection_set, self.fragments, parent, self.schema):
                key = child.alias.value if child.alias else child.name.value
                grouped.setdefault(key, []).append(child)
        return tuple(self.item(key, group, parent) for key, group in grouped.items())

    def item(self, key: str, group: list[FieldNode], parent: GraphQLObjectType) -> Item:
        first = group[0]
        name = first.name.value
        if name == "__typename":
            return Item(key, name)
        definition = parent.fields.get(name)
        if definition is None:
            raise NotCompiled(name)
        arguments = self._arguments(first, definition, self.variables)
        target = get_named_type(definition.type)
        selection = None
        if isinstance(target, GraphQLObjectType):
            selection = self.items(group, target)
        elif first.selection_set is not None:
            raise NotCompiled(f"{parent.name}.{name} is abstract")
        hashable = tuple(sorted((k, _hashable(v)) for k, v in arguments.items()))
        return Item(key, name, hashable, selection, arguments)
