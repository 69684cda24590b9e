"""Limits of every argument and input field, checked at the GraphQL boundary before anything runs.

Strings carry no NUL and no lone surrogate (PostgreSQL refuses both) and have a length limit;
URLs are http(s); lists have a length limit. The limits go by the argument's or input field's name,
with a default for every other string and list, so a new field is limited the day it is added:

=====================================  ==============================
name                                   limit
=====================================  ==============================
``after``, ``before`` (cursors)        checked by the cursor decoder
``slug``, ``*Slug(s)``, ``key``        64 characters
``name``, ``search``, ``family`` ...   200 characters
ids, ``uri``, ``alias``                512 characters
``pattern`` (parser rules)             500 characters
``*Url``, ``url``, ``homepage*``       2,048 characters, http or https
``description``, ``notes``             10,000 characters
any other string                       1,000 characters
``architectures``                      1,000 items
any other list                         100 items
=====================================  ==============================

Numbers are checked by their scalars (``Decimal`` is finite with at most 30 significant digits,
``BigInt`` fits 64 bits) and by graphql-core (``Int`` is 32-bit). Each violation is a
``BAD_USER_INPUT`` error naming the path of the field (``createEngine.input.homepageUrl``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    NullValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from budgraph.kit.errors import BudgraphError, ErrorCode

MAX_ERRORS = 20
# Scalars whose own parsers refuse out-of-range values: their refusal is reported with the field path.
_CHECKED_SCALARS = frozenset({"Decimal", "BigInt"})
# Arguments whose own decoder refuses a bad value with a more precise error (INVALID_CURSOR).
_SELF_CHECKED = frozenset({"after", "before"})
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class StringLimit:
    max_length: int
    url: bool = False


def string_limit(name: str) -> StringLimit:
    lowered = name.lower()
    if lowered.endswith("url") or lowered.startswith("homepage"):
        return StringLimit(2048, url=True)
    if lowered in ("slug", "key") or lowered.endswith(("slug", "slugs")):
        return StringLimit(64)
    if lowered in ("description", "notes", "detail", "chattemplate"):
        return StringLimit(10_000)
    if lowered == "pattern":
        return StringLimit(500)
    if lowered in (
        "id",
        "ids",
        "uri",
        "alias",
        "modelid",
        "model",
        "revision",
    ) or lowered.endswith(("id", "ids")):
        return StringLimit(512)
    if lowered in ("name", "names", "search", "family", "version", "versionprefix", "parser", "vendor"):
        return StringLimit(200)
    return StringLimit(1_000)


def list_limit(name: str) -> int:
    return 1_000 if name.lower() in ("architectures",) else 100


def _problem_with_string(value: str, limit: StringLimit) -> str | None:
    if "\x00" in value:
        return "must not contain a NUL character"
    if _SURROGATE.search(value):
        return "is not valid Unicode (it holds a lone surrogate)"
    if len(value) > limit.max_length:
        return f"is {len(value)} characters long; at most {limit.max_length} are allowed"
    if limit.url and value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "must be an http or https URL"
    return None


def _unwrap(type_: Any) -> Any:
    while isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    return type_


class InputChecker:
    """Walks the arguments of an operation (literals and the variables they use) with their types."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.errors: list[BudgraphError] = []

    def fail(self, path: list[str], problem: str) -> None:
        if len(self.errors) < MAX_ERRORS:
            where = ".".join(path)
            self.errors.append(
                BudgraphError(f"`{where}` {problem}", code=ErrorCode.BAD_USER_INPUT, field=where)
            )

    def operation(self, operation: OperationDefinitionNode) -> list[BudgraphError]:
        root = self.schema.get_root_type(operation.operation)
        if root is not None:
            self.selections(operation.selection_set, root, [], frozenset())
        return self.errors

    def _fields(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType, expanding: frozenset[str]
    ) -> Iterator[tuple[FieldNode, GraphQLNamedType, frozenset[str]]]:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection, parent, expanding
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = (self.schema.get_type(condition.name.value) if condition else None) or parent
                yield from self._fields(selection.selection_set, target, expanding)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in expanding:
                    target = self.schema.get_type(fragment.type_condition.name.value) or parent
                    yield from self._fields(fragment.selection_set, target, expanding | {name})

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        path: list[str],
        expanding: frozenset[str],
    ) -> None:
        for node, owner, seen in self._fields(selection_set, parent, expanding):
            if not isinstance(owner, GraphQLObjectType | GraphQLInterfaceType):
                continue
            definition = owner.fields.get(node.name.value)
            if definition is None:
                continue
            here = [*path, node.name.value]
            for argument in node.arguments or ():
                argument_definition = definition.args.get(argument.name.value)
                if argument_definition is not None:
                    self.literal(argument.value, argument_definition.type, [*here, argument.name.value])
            named: Any = definition.type
            while isinstance(named, GraphQLNonNull | GraphQLList):
                named = named.of_type
            self.selections(node.selection_set, named, here, seen)

    def literal(self, node: ValueNode, type_: GraphQLInputType, path: list[str]) -> None:
        type_ = _unwrap(type_)
        if isinstance(node, VariableNode):
            self.value(self.variables.get(node.name.value), type_, path)
        elif isinstance(type_, GraphQLList):
            items = node.values if isinstance(node, ListValueNode) else [node]
            self._count(len(items), path)
            for index, item in enumerate(items[: list_limit(path[-1])]):
                self.literal(
                    item, type_.of_type, [*path, str(index)] if isinstance(node, ListValueNode) else path
                )
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(node, ObjectValueNode):
            for field in node.fields:
                definition = type_.fields.get(field.name.value)
                if definition is not None:
                    self.literal(field.value, definition.type, [*path, field.name.value])
        elif isinstance(type_, GraphQLScalarType):
            if type_.name in _CHECKED_SCALARS and not isinstance(node, VariableNode | NullValueNode):
                self.scalar(lambda: type_.parse_literal(node, self.variables), path)
            elif isinstance(node, StringValueNode):
                self.string(node.value, path)

    def scalar(self, parse: Any, path: list[str]) -> None:
        """Run a custom scalar's own parser, reporting its refusal as a bad input at ``path``."""
        try:
            parse()
        except (ValueError, TypeError, ArithmeticError) as error:
            self.fail(path, f"is not accepted: {error}")
        except GraphQLError as error:
            self.fail(path, f"is not accepted: {error.message}")

    def value(self, value: Any, type_: GraphQLInputType, path: list[str]) -> None:
        type_ = _unwrap(type_)
        if value is None:
            return
        if isinstance(type_, GraphQLList):
            items = value if isinstance(value, list) else [value]
            self._count(len(items), path)
            for index, item in enumerate(items[: list_limit(path[-1])]):
                self.value(item, type_.of_type, [*path, str(index)] if isinstance(value, list) else path)
        elif isinstance(type_, GraphQLInputObjectType) and isinstance(value, dict):
            for key, item in value.items():
                definition = type_.fields.get(key)
                if definition is not None:
                    self.value(item, definition.type, [*path, key])
        elif isinstance(type_, GraphQLScalarType):
            if type_.name in _CHECKED_SCALARS:
                self.scalar(lambda: type_.parse_value(value), path)
            elif isinstance(value, str):
                self.string(value, path)

    def _count(self, length: int, path: list[str]) -> None:
        maximum = list_limit(path[-1])
        if length > maximum:
            self.fail(path, f"has {length} items; at most {maximum} are allowed")

    def string(self, value: str, path: list[str]) -> None:
        name = next((part for part in reversed(path) if not part.isdigit()), path[-1])
        if name in _SELF_CHECKED:
            return
        problem = _problem_with_string(value, string_limit(name))
        if problem is not None:
            self.fail(path, problem)


def check_inputs(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any] | None,
) -> list[BudgraphError]:
    """The violations of input limits in ``operation`` (empty: its input is within every limit)."""
    return InputChecker(schema, fragments, variables or {}).operation(operation)
