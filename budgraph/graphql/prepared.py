"""Hands strawberry the document the executor already parsed and validated (no second pass)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from budgraph.graphql.context import Operation, current_operation


class PreparedDocumentExtension(SchemaExtension):
    """Sets the operation's prepared document and skips strawberry's own parse and validation."""

    def on_parse(self) -> Iterator[None]:
        operation = _maybe_operation()
        if operation is not None and operation.document is not None:
            self.execution_context.graphql_document = operation.document
        yield

    def get_results(self) -> dict[str, Any]:
        operation = _maybe_operation()
        return dict(operation.extensions) if operation is not None and operation.extensions else {}

    def on_validate(self) -> Iterator[None]:
        operation = _maybe_operation()
        if operation is not None and operation.document is not None:
            self.execution_context.pre_execution_errors = []
        yield


def _maybe_operation() -> Operation | None:
    try:
        return current_operation()
    except RuntimeError:
        return None
