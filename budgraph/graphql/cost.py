"""The cost of an operation, computed from its document before it runs (as GitHub and Shopify do).

The cost is the number of objects the answer could hold. Every object-valued field costs one per
object; a list multiplies what is below it by its length, and lengths multiply down the tree:
``engines(first: 20) { nodes { versions(first: 10) { nodes { version } } } }`` costs
1 + 20 * (1 + 1 + 10) = 241 (the connection, then per engine: the engine, its versions connection
and its 10 versions). A connection's length is its ``first`` or ``last`` (an absent one counts as
the default page size); any field with a ``first`` / ``last`` argument sets the length of the lists
directly below it (``changes(first:)``); other lists count as the default page size; ``nodes(ids:)``
as many as it is given. Scalars cost nothing; introspection costs one (it is bounded by the
introspection-depth rule). Fragments are expanded; fragments on several types are all counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
)


@dataclass(frozen=True)
class CostRules:
    default_page_size: int
    max_page_size: int


def _unwrap(type_: GraphQLOutputType) -> tuple[bool, GraphQLNamedType]:
    """Whether the type is a list (at any level), and its named type."""
    listed = False
    current: Any = type_
    while isinstance(current, GraphQLNonNull | GraphQLList):
        listed = listed or isinstance(current, GraphQLList)
        current = current.of_type
    named: GraphQLNamedType = current
    return listed, named


class CostCalculator:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
        rules: CostRules,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.rules = rules

    def operation(self, operation: OperationDefinitionNode) -> int:
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self.selections(operation.selection_set, root, self.rules.default_page_size, frozenset())

    def _int(self, node: ValueNode | None) -> int | None:
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, VariableNode):
            value = self.variables.get(node.name.value)
            return value if isinstance(value, int) and not isinstance(value, bool) else None
        return None

    def _length(self, node: ValueNode | None) -> int | None:
        if isinstance(node, ListValueNode):
            return len(node.values)
        if isinstance(node, VariableNode):
            value = self.variables.get(node.name.value)
            return len(value) if isinstance(value, list) else None
        return None

    def _page(self, field: FieldNode, definition: GraphQLField) -> int | None:
        """The page size a field asks for with `first` / `last` (or their schema defaults), capped."""
        if "first" not in definition.args and "last" not in definition.args:
            return None
        arguments = {argument.name.value: argument.value for argument in field.arguments or ()}
        sizes: list[int | None] = []
        for name in ("first", "last"):
            if name in arguments:
                sizes.append(self._int(arguments[name]))
            elif name in definition.args:
                default = definition.args[name].default_value
                sizes.append(default if isinstance(default, int) and not isinstance(default, bool) else None)
        given = [size for size in sizes if size is not None]
        size = max(given) if given else self.rules.default_page_size
        return max(0, min(size, self.rules.max_page_size))

    def _list_length(self, field: FieldNode, inherited: int) -> int:
        arguments = {argument.name.value: argument.value for argument in field.arguments or ()}
        if "ids" in arguments:
            length = self._length(arguments["ids"])
            if length is not None:
                return min(length, self.rules.max_page_size)
        return inherited

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        page: int,
        expanding: frozenset[str],
    ) -> int:
        """The cost of one object's selections; ``page`` is the length of lists directly below it."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page, expanding)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, target or parent, page, expanding)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in expanding:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.selections(fragment.selection_set, target, page, expanding | {name})
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int, expanding: frozenset[str]) -> int:
        name = node.name.value
        if name == "__typename":
            return 0
        if name in ("__schema", "__type"):
            return 1
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        listed, named = _unwrap(definition.type)
        if not isinstance(named, GraphQLObjectType | GraphQLInterfaceType) and node.selection_set is None:
            return 0
        below = self._page(node, definition)
        child_page = below if below is not None else self.rules.default_page_size
        each = 1 + self.selections(node.selection_set, named, child_page, expanding)
        count = self._list_length(node, page) if listed else 1
        return count * each


def operation_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None,
    rules: CostRules,
) -> int:
    return CostCalculator(schema, fragments, variables or {}, rules).operation(operation)
