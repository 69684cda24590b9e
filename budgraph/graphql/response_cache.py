"""A cache of whole answers, keyed by the registry version: never stale, never flushed by hand.

Every committed write bumps the registry version (``registry/recorder.py``), so an answer computed
at version N is the answer to the same question at version N for as long as the version stays N.
The key is the registry's epoch and version, the caller's scope, and the operation (document,
operation name, variables): a write anywhere moves the version, and every later request asks
under a new key. Entries live in this process (a bounded LRU) and, with Redis, in Redis too, so
replicas share them.

Only answers made entirely of registry-versioned data are cached: a document that selects a job,
a file, a scan result, a leaderboard entry, an alias, an API key, or anything through ``node`` (which
can be any of those) is always executed. Answers with errors are never cached. The rate-limit
extension differs per caller and per moment, so it is spliced in at each answer, not stored.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any

import orjson
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
)
from redis.asyncio import Redis
from redis.exceptions import RedisError

from budgraph.registry.repository import RegistryPosition

log = logging.getLogger("budgraph.cache")

# Object types whose every field reads rows the registry version covers (ProvenanceMixin tables).
VERSIONED_TYPES = frozenset(
    {
        "Query",
        "Engine",
        "EngineVersion",
        "ModelArchitecture",
        "ParserRule",
        "CompatibleEngineVersion",
        "Model",
        "FactSource",
        "License",
        "Provider",
        "ProviderModel",
        "ProviderModelPriceTier",
        "Hardware",
        "HardwarePrice",
        "RegistryChanges",
        "RegistryChange",
        "FieldChange",
        "PageInfo",
        "Tracked",
    }
)
# Fields of versioned types that read something else.
UNVERSIONED_FIELDS = frozenset({("Model", "leaderboardAliases"), ("Query", "node"), ("Query", "nodes")})


def _versioned(type_: GraphQLNamedType) -> bool:
    name = type_.name
    if name in VERSIONED_TYPES:
        return True
    if isinstance(type_, GraphQLObjectType) and name.endswith(("Connection", "Edge")):
        inner = type_.fields.get("node") or type_.fields.get("nodes")
        return inner is not None and get_named_type(inner.type).name in VERSIONED_TYPES
    return False


def is_cacheable(
    schema: GraphQLSchema, operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> bool:
    """Whether the answer to ``operation`` is made only of registry-versioned data (a query)."""
    if operation.operation.value != "query":
        return False
    root = schema.query_type
    return root is not None and _selection_is_versioned(
        schema, operation.selection_set, root, fragments, set()
    )


def _selection_is_versioned(
    schema: GraphQLSchema,
    selection_set: SelectionSetNode | None,
    parent: GraphQLNamedType,
    fragments: dict[str, FragmentDefinitionNode],
    seen: set[str],
) -> bool:
    if selection_set is None:
        return True
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            name = selection.name.value
            if name == "__typename":
                continue
            if name.startswith("__") or (parent.name, name) in UNVERSIONED_FIELDS:
                return False
            if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
                return False
            definition = parent.fields.get(name)
            if definition is None:
                return False
            returned = get_named_type(definition.type)
            if isinstance(returned, GraphQLObjectType | GraphQLInterfaceType) or selection.selection_set:
                if not _versioned(returned):
                    return False
                if not _selection_is_versioned(schema, selection.selection_set, returned, fragments, seen):
                    return False
        else:
            target: GraphQLNamedType | None
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = selection.selection_set
                target = schema.get_type(condition.name.value) if condition else parent
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments.get(selection.name.value)
                if fragment is None or selection.name.value in seen:
                    continue
                seen.add(selection.name.value)
                inner, target = fragment.selection_set, schema.get_type(fragment.type_condition.name.value)
            else:
                return False
            if target is None or not _versioned(target):
                return False
            if not _selection_is_versioned(schema, inner, target, fragments, seen):
                return False
    return True


def cache_key(
    position: RegistryPosition,
    scope: str,
    query: str,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> str:
    digest = hashlib.sha256()
    for part in (position.epoch, str(position.version), scope, operation_name or "", query):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    digest.update(orjson.dumps(variables or {}, option=orjson.OPT_SORT_KEYS))
    return digest.hexdigest()


def entity_tag(key: str) -> str:
    """The weak ETag of the answer kept (or that would be kept) under ``key``."""
    return f'W/"{key[:32]}"'


class ResponseCache:
    """Answers by key: a byte-bounded LRU in this process, then Redis (shared by replicas)."""

    def __init__(self, max_bytes: int, redis: Redis | None = None, ttl_seconds: int = 600) -> None:
        self.max_bytes = max_bytes
        self.redis = redis
        self.ttl = ttl_seconds
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self.hits = self.misses = 0

    async def get(self, key: str) -> bytes | None:
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            self.hits += 1
            return found
        if self.redis is not None:
            try:
                shared: bytes | None = await self.redis.get(f"budgraph:answer:{key}")
            except (RedisError, OSError) as error:
                log.warning("the shared answer cache is unreachable: %s", error)
                shared = None
            if shared is not None:
                self._remember(key, shared)
                self.hits += 1
                return shared
        self.misses += 1
        return None

    async def put(self, key: str, data: bytes) -> None:
        self._remember(key, data)
        if self.redis is not None:
            try:
                await self.redis.set(f"budgraph:answer:{key}", data, ex=self.ttl)
            except (RedisError, OSError) as error:
                log.warning("the shared answer cache is unreachable: %s", error)

    def _remember(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 8:
            return  # one answer may not push out everything else
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._size -= len(previous)
        self._entries[key] = data
        self._size += len(data)
        while self._size > self.max_bytes and self._entries:
            _, evicted = self._entries.popitem(last=False)
            self._size -= len(evicted)
