"""Declarative permissions: a field names the scope it needs, checked before its resolver runs.

    @strawberry.mutation(description="...", extensions=needs(ApiKeyScope.WRITE))
    async def create_engine(self, info: Info, input: CreateEngineInput) -> Engine: ...

The check runs before the resolver (so before any lookup of the arguments), raises the typed
UNAUTHENTICATED / FORBIDDEN errors, and the scope a field needs can be read off the schema by the
request guard (which refuses a whole operation before execution, with HTTP 401 / 403).
"""

from __future__ import annotations

from typing import Any

from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.types import Info

from budgraph.db.enums import ApiKeyScope


class HasScope(BasePermission):
    """The caller's API key has (at least) ``scope``."""

    def __init__(self, scope: ApiKeyScope) -> None:
        self.scope = scope

    def has_permission(self, source: Any, info: Info[Any, Any], **kwargs: Any) -> bool:
        info.context.require(self.scope)  # raises the typed error
        return True


def needs(scope: ApiKeyScope) -> list[FieldExtension]:
    """The field extensions of a field that needs an API key with ``scope``."""
    return [PermissionExtension(permissions=[HasScope(scope)], use_directives=False)]


def scope_needed(extensions: list[FieldExtension]) -> ApiKeyScope | None:
    """The scope a field's extensions demand, if any."""
    for extension in extensions:
        if isinstance(extension, PermissionExtension):
            for permission in extension.permissions:
                if isinstance(permission, HasScope):
                    return permission.scope
    return None
