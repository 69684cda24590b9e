"""Preparing a GraphQL document: bounded before it is parsed, checked before it is validated.

Every operation, over HTTP or the WebSocket, goes through ``prepare`` before it runs:

1. the document's length is checked before anything reads it (``max_document_bytes``);
2. it is parsed with a token cap (``max_query_tokens``);
3. cheap linear checks refuse what would make validation or execution explode: nesting depth,
   aliases and the number of field selections;
4. it is validated (graphql-core's rules plus the introspection-depth rule).

Parsing and validating a large document take a lot of CPU in Python, so a document above a small
size is handled in a worker thread, one at a time: the event loop keeps answering other requests
while it runs. Results are cached by document text (bounded), so a repeated document costs a dict
lookup. The cost of an operation (which needs its variables) is computed afterwards by
``budgraph.graphql.cost``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import MaxIntrospectionDepthRule

from budgraph.kit.errors import BudgraphError, ErrorCode
from budgraph.settings import Settings

# Documents shorter than this are parsed and validated on the event loop (it is quicker than a
# thread hop); longer ones in the worker thread.
_INLINE_BYTES = 2048
_CACHE_SIZE = 512
_RULES = (*specified_rules, MaxIntrospectionDepthRule)


@dataclass(frozen=True)
class QueryLimits:
    max_document_bytes: int
    max_tokens: int
    max_depth: int
    max_aliases: int
    max_fields: int
    max_cost: int

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_document_bytes=settings.max_document_bytes,
            max_tokens=settings.max_query_tokens,
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_query_aliases,
            max_fields=settings.max_query_fields,
            max_cost=settings.max_query_cost,
        )


class QueryRefused(BudgraphError):
    """A document over one of the limits: the name of the limit, its value and the maximum."""

    code = ErrorCode.QUERY_LIMIT_EXCEEDED

    def __init__(self, message: str, limit: str, value: int, maximum: int) -> None:
        super().__init__(message, limit=limit, value=value, maximum=maximum)


@dataclass(frozen=True)
class PreparedDocument:
    """A parsed document and what checking it found (``errors`` empty: it may run)."""

    document: DocumentNode | None
    errors: tuple[GraphQLError, ...]

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        """The operation to run: the one named ``name``, or the only one."""
        if self.document is None:
            return None
        operations = [d for d in self.document.definitions if isinstance(d, OperationDefinitionNode)]
        if name is None:
            return operations[0] if len(operations) == 1 else None
        return next((op for op in operations if op.name and op.name.value == name), None)

    def fragments(self) -> dict[str, FragmentDefinitionNode]:
        if self.document is None:
            return {}
        return {d.name.value: d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)}


def refusal(error: BudgraphError) -> GraphQLError:
    return GraphQLError(error.message, extensions=error.extensions, original_error=error)


@dataclass
class _Shape:
    depth: int = 0
    aliases: int = 0
    fields: int = 0


def _measure(document: DocumentNode) -> _Shape:
    """Depth (fragments expanded, introspection aside), aliases and field selections, in linear time."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    depth_of_fragment: dict[str, int] = {}
    shape = _Shape()

    def depth(selection_set: SelectionSetNode | None, visiting: frozenset[str]) -> int:
        if selection_set is None:
            return 0
        deepest = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue  # introspection: bounded by the introspection-depth rule instead
                deepest = max(deepest, 1 + depth(selection.selection_set, visiting))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, depth(selection.selection_set, visiting))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name in visiting or name not in fragments:
                    continue  # a cycle or an unknown fragment: validation reports it
                if name not in depth_of_fragment:
                    depth_of_fragment[name] = depth(fragments[name].selection_set, visiting | {name})
                deepest = max(deepest, depth_of_fragment[name])
        return deepest

    for definition in document.definitions:
        for node in _fields(definition.selection_set if hasattr(definition, "selection_set") else None):
            shape.fields += 1
            if node.alias is not None:
                shape.aliases += 1
        if isinstance(definition, OperationDefinitionNode):
            shape.depth = max(shape.depth, depth(definition.selection_set, frozenset()))
    return shape


def _fields(selection_set: SelectionSetNode | None) -> list[FieldNode]:
    """Every field node written in a selection set (not expanding fragment spreads)."""
    found: list[FieldNode] = []
    stack = [selection_set] if selection_set is not None else []
    while stack:
        current = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FieldNode):
                found.append(selection)
            if isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
                stack.append(selection.selection_set)
    return found


def _check(schema: GraphQLSchema, text: str, limits: QueryLimits) -> PreparedDocument:
    try:
        document = parse(text, max_tokens=limits.max_tokens, no_location=False)
    except GraphQLError as error:
        if "tokens" in error.message and "Parsing aborted" in error.message:
            refused = QueryRefused(
                f"the document has more than {limits.max_tokens} tokens",
                "tokens",
                limits.max_tokens + 1,
                limits.max_tokens,
            )
            return PreparedDocument(None, (refusal(refused),))
        return PreparedDocument(None, (error,))
    shape = _measure(document)
    for limit, value, maximum, what in (
        ("depth", shape.depth, limits.max_depth, "fields are nested {value} deep"),
        ("aliases", shape.aliases, limits.max_aliases, "the document has {value} aliases"),
        ("fields", shape.fields, limits.max_fields, "the document selects {value} fields"),
    ):
        if value > maximum:
            refused = QueryRefused(
                f"{what.format(value=value)}; at most {maximum} are allowed", limit, value, maximum
            )
            return PreparedDocument(document, (refusal(refused),))
    return PreparedDocument(document, tuple(validate(schema, document, _RULES)))


class DocumentPreparer:
    """Prepares documents against one schema with one set of limits, caching by document text."""

    def __init__(self, schema: GraphQLSchema, limits: QueryLimits) -> None:
        self.schema = schema
        self.limits = limits
        self._cache: OrderedDict[str, PreparedDocument] = OrderedDict()
        self._heavy = asyncio.Semaphore(1)

    def too_long(self, text: str) -> QueryRefused | None:
        if len(text) * 4 <= self.limits.max_document_bytes:
            return None  # no encoding of it can be longer
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_document_bytes:
            return QueryRefused(
                f"the document is {size} bytes; at most {self.limits.max_document_bytes} are allowed",
                "documentBytes",
                size,
                self.limits.max_document_bytes,
            )
        return None

    async def prepare(self, text: str) -> PreparedDocument:
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        too_long = self.too_long(text)
        if too_long is not None:
            return PreparedDocument(None, (refusal(too_long),))
        if len(text) <= _INLINE_BYTES:
            prepared = _check(self.schema, text, self.limits)
        else:
            async with self._heavy:
                prepared = await asyncio.to_thread(_check, self.schema, text, self.limits)
        self._cache[text] = prepared
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return prepared


def operation_type(prepared: PreparedDocument, name: str | None) -> OperationType | None:
    operation = prepared.operation(name)
    return operation.operation if operation is not None else None
