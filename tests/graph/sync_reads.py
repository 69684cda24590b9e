"""A fresh full read of the registry, to compare a runtime's synced copy with: every id of each kind
the runtime keeps, straight from the tables, and each entity read now through `nodes(ids:)` with the
fields the runtime keeps (docs/sync_client.py's ``FIELDS``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.kit.ids import to_global_id
from docs.sync_client import FIELDS, NODES


async def registry_ids(session: AsyncSession, kinds: Mapping[str, str] = FIELDS) -> dict[str, list[str]]:
    """The global ids of every row of each kind, from the tables."""
    found = {}
    for kind in sorted(kinds):
        table = getattr(db, kind)
        found[kind] = [to_global_id(kind, pk) for pk in (await session.scalars(select(table.id))).all()]
    return found


async def full_read(
    http: httpx.AsyncClient, ids: Mapping[str, list[str]], fields: Mapping[str, str] = FIELDS
) -> dict[str, dict[str, Any]]:
    """Every entity of ``ids`` as the graph shows it now, by global id."""
    entities: dict[str, dict[str, Any]] = {}
    for kind, listed in ids.items():
        for start in range(0, len(listed), 100):
            query = NODES % (kind, fields[kind])
            response = await http.post(
                "/graphql", json={"query": query, "variables": {"ids": listed[start : start + 100]}}
            )
            body = response.json()
            assert response.status_code == 200, body
            assert body.get("errors") is None, body
            for node in body["data"]["nodes"]:
                assert node is not None
                entities[node["id"]] = node
    return entities
