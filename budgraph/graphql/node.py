"""The Relay ``Node`` interface and the lookup of any node by its global id."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry

from budgraph.graphql.context import Info
from budgraph.kit.errors import InvalidId
from budgraph.kit.ids import from_global_id
from budgraph.kit.loaders import RowByIdLoader


@strawberry.interface(
    description="An object with a stable, opaque global id; any can be fetched with `node(id:)`."
)
class Node:
    id: strawberry.ID = strawberry.field(description="Opaque global id of this object.")


@dataclass(frozen=True)
class NodeKind:
    loader: type[RowByIdLoader[Any]]
    convert: Callable[[Any], Node]

    @property
    def graphql_type(self) -> type[Node] | None:
        """The Strawberry type ``convert`` makes (``SomeType.from_row`` is bound to it)."""
        owner = getattr(self.convert, "__self__", None)
        return owner if isinstance(owner, type) and issubclass(owner, Node) else None


NODE_KINDS: dict[str, NodeKind] = {}


def register_node(type_name: str, loader: type[RowByIdLoader[Any]], convert: Callable[[Any], Node]) -> None:
    NODE_KINDS[type_name] = NodeKind(loader=loader, convert=convert)


def node_types() -> list[type[Node]]:
    """Every registered node type: the schema lists them all, so ``node(id:)`` can return any of them
    even when no field of the graph returns that type (e.g. ``CompatibilityEdge``)."""
    found = (kind.graphql_type for kind in NODE_KINDS.values())
    return [graphql_type for graphql_type in found if graphql_type is not None]


async def load_node(info: Info, global_id: str) -> Node | None:
    type_name, pk = from_global_id(global_id)
    kind = NODE_KINDS.get(type_name)
    if kind is None:
        raise InvalidId(f"{global_id!r} names no type of this graph")
    row = await info.context.loaders.get(kind.loader).load(pk)
    return kind.convert(row) if row is not None else None
