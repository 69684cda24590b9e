"""API keys: hashed at rest, scopes read < write < admin, Bearer header, reads open by default."""

from __future__ import annotations

from sqlalchemy import select

from budgraph import db
from budgraph.auth.service import create_key, revoke_key
from budgraph.db.enums import ApiKeyScope
from budgraph.kit.db import RequestSession
from tests.conftest import GraphQLClient

CREATE_ENGINE = 'mutation { createEngine(input: {slug: "sglang", name: "SGLang"}) { slug name origin } }'
LAST_CHANGE = "{ changes(since: 0) { changes { entityKind operation actor } } }"


async def test_writes_need_a_write_key(session: RequestSession, client: GraphQLClient) -> None:
    reader = await create_key(session, "dashboard", ApiKeyScope.READ)
    writer = await create_key(session, "operator-ann", ApiKeyScope.WRITE)
    await session.commit()

    anonymous = await client.post(CREATE_ENGINE)
    assert anonymous.status_code == 401
    assert [e["extensions"]["code"] for e in anonymous.json()["errors"]] == ["UNAUTHENTICATED"]
    read_only = await client.post(CREATE_ENGINE, token=reader)
    assert read_only.status_code == 403
    assert [e["extensions"]["code"] for e in read_only.json()["errors"]] == ["FORBIDDEN"]
    data = await client.data(CREATE_ENGINE, token=writer)
    assert data == {"createEngine": {"slug": "sglang", "name": "SGLang", "origin": "API"}}
    changes = await client.data(LAST_CHANGE)
    assert changes["changes"]["changes"] == [
        {"entityKind": "Engine", "operation": "CREATE", "actor": "operator-ann"}
    ]


async def test_bad_and_revoked_keys_are_refused(session: RequestSession, client: GraphQLClient) -> None:
    key = await create_key(session, "old", ApiKeyScope.ADMIN)
    await session.commit()
    for header_value in ["bgk_nope_nope", "not-a-key", key + "x"]:
        response = await client.post("{ registryVersion }", token=header_value)
        assert response.status_code == 401
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNAUTHENTICATED"]
    response = await client.http.post(
        "/graphql", json={"query": "{ registryVersion }"}, headers={"Authorization": "Basic abc"}
    )
    assert response.status_code == 401
    assert await revoke_key(session, "old") is True
    await session.commit()
    assert (await client.post("{ registryVersion }", token=key)).status_code == 401


async def test_only_a_hash_is_stored(session: RequestSession) -> None:
    key = await create_key(session, "ci", ApiKeyScope.WRITE)
    row = await session.scalar(select(db.ApiKey).where(db.ApiKey.name == "ci"))
    assert row is not None
    assert key.startswith(f"bgk_{row.prefix}_")
    assert key not in row.secret_hash
    assert len(row.secret_hash) == 64


async def test_reads_can_require_a_key(
    session: RequestSession, client: GraphQLClient, settings: object
) -> None:
    from budgraph.settings import get_settings

    key = await create_key(session, "reader", ApiKeyScope.READ)
    await session.commit()
    current = get_settings()
    current.require_api_key_for_reads = True
    try:
        response = await client.post("{ registryVersion }")
        assert response.status_code == 401
        by_get = await client.http.get("/graphql", params={"query": "{ registryVersion }"})
        assert by_get.status_code == 401
        assert (await client.data("{ registryVersion }", token=key)) == {"registryVersion": 0}
    finally:
        current.require_api_key_for_reads = False
