"""Admin GraphQL for API keys: list (never a secret), create (the secret once), revoke, per-key
budgets, and the audit of key events; each needs the `admin` scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from budgraph import db
from budgraph.auth.service import create_key
from budgraph.db.enums import ApiKeyScope
from budgraph.kit import clock
from budgraph.kit.db import RequestSession, StatementCounter
from tests.conftest import GraphQLClient

KEY_FIELDS = (
    "name prefix scope status expiresAt revokedAt rateLimit effectiveRateLimit rateLimitWindowSeconds"
)
API_KEYS = (
    f"query($filter: ApiKeyFilter) {{ apiKeys(filter: $filter) {{ totalCount nodes {{ {KEY_FIELDS} }} }} }}"
)
API_KEY = f"query($name: String!) {{ apiKey(name: $name) {{ {KEY_FIELDS} }} }}"
CREATE = f"""mutation($input: CreateApiKeyInput!) {{
  createApiKey(input: $input) {{ secret apiKey {{ {KEY_FIELDS} }} }}
}}"""
REVOKE = "mutation($name: String!) { revokeApiKey(name: $name) { name status revokedAt } }"
SET_LIMIT = "mutation($name: String!, $limit: Int) { setApiKeyRateLimit(name: $name, rateLimit: $limit) { name rateLimit effectiveRateLimit } }"
EVENTS = """query($filter: ApiKeyEventFilter) {
  apiKeyEvents(filter: $filter) {
    totalCount
    nodes { kind actor clientAddress scope expiresAt rateLimitBefore rateLimitAfter apiKey { name } }
  }
}"""
ADMIN_FIELDS = [
    (API_KEYS, {}),
    (API_KEY, {"name": "x"}),
    (EVENTS, {}),
    (CREATE, {"input": {"name": "x", "scope": "READ"}}),
    (REVOKE, {"name": "x"}),
    (SET_LIMIT, {"name": "x", "limit": 5}),
]


@pytest.fixture
async def admin(session: RequestSession) -> str:
    token = await create_key(session, "admin-ann", ApiKeyScope.ADMIN)
    await session.commit()
    return token


async def codes(
    client: GraphQLClient, query: str, variables: dict[str, Any], token: str | None = None
) -> list[str]:
    body = (await client.post(query, variables, token=token)).json()
    return [error["extensions"]["code"] for error in body["errors"]]


async def counts(session: RequestSession) -> tuple[int, int]:
    keys = await session.scalar(select(func.count()).select_from(db.ApiKey))
    events = await session.scalar(select(func.count()).select_from(db.ApiKeyEvent))
    return int(keys or 0), int(events or 0)


@pytest.mark.parametrize(("query", "variables"), ADMIN_FIELDS)
async def test_every_key_field_needs_the_admin_scope(
    session: RequestSession, client: GraphQLClient, writer_token: str, query: str, variables: dict[str, Any]
) -> None:
    before = await counts(session)
    assert await codes(client, query, variables) == ["UNAUTHENTICATED"]
    assert await codes(client, query, variables, token=writer_token) == ["FORBIDDEN"]
    after = await counts(session)
    assert after[0] == before[0]


async def test_create_shows_the_secret_once_and_the_key_works(
    session: RequestSession, client: GraphQLClient, admin: str
) -> None:
    created = await client.data(
        CREATE, {"input": {"name": "runtime-eu", "scope": "WRITE", "rateLimit": 7000}}, token=admin
    )
    secret = created["createApiKey"]["secret"]
    prefix = created["createApiKey"]["apiKey"]["prefix"]
    assert secret.startswith(f"bgk_{prefix}_")
    assert created["createApiKey"]["apiKey"] == {
        "name": "runtime-eu",
        "prefix": prefix,
        "scope": "WRITE",
        "status": "ACTIVE",
        "expiresAt": None,
        "revokedAt": None,
        "rateLimit": 7000,
        "effectiveRateLimit": 7000,
        "rateLimitWindowSeconds": 60,
    }
    engine = 'mutation { createEngine(input: {slug: "by-new-key", name: "New"}) { slug } }'
    assert await client.data(engine, token=secret) == {"createEngine": {"slug": "by-new-key"}}

    # Listing and reading never show the secret nor its hash.
    row = await session.scalar(select(db.ApiKey).where(db.ApiKey.name == "runtime-eu"))
    assert row is not None
    for query, variables in [(API_KEYS, {}), (API_KEY, {"name": "runtime-eu"}), (EVENTS, {})]:
        text = (await client.post(query, variables, token=admin)).text
        assert secret not in text
        assert row.secret_hash not in text
    listed = await client.data(API_KEYS, token=admin)
    assert [(n["name"], n["effectiveRateLimit"]) for n in listed["apiKeys"]["nodes"]] == [
        ("admin-ann", 200_000),
        ("runtime-eu", 7000),
    ]
    fields = await client.data('{ __type(name: "ApiKey") { fields { name } } }')
    names = {field["name"] for field in fields["__type"]["fields"]}
    assert not {name for name in names if "secret" in name.lower() or "hash" in name.lower()}


async def test_revoke_and_budgets_are_audited(
    session: RequestSession, client: GraphQLClient, admin: str
) -> None:
    secret = (await client.data(CREATE, {"input": {"name": "dash", "scope": "READ"}}, token=admin))[
        "createApiKey"
    ]["secret"]
    assert await client.data(SET_LIMIT, {"name": "dash", "limit": 900}, token=admin) == {
        "setApiKeyRateLimit": {"name": "dash", "rateLimit": 900, "effectiveRateLimit": 900}
    }
    assert await client.data(SET_LIMIT, {"name": "dash", "limit": None}, token=admin) == {
        "setApiKeyRateLimit": {"name": "dash", "rateLimit": None, "effectiveRateLimit": 200_000}
    }
    revoked = await client.data(REVOKE, {"name": "dash"}, token=admin)
    assert revoked["revokeApiKey"]["status"] == "REVOKED"
    again = await client.data(REVOKE, {"name": "dash"}, token=admin)
    assert again["revokeApiKey"]["revokedAt"] == revoked["revokeApiKey"]["revokedAt"]

    refused = await client.post("{ registryVersion }", token=secret)
    assert refused.status_code == 401
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert error["message"].startswith("the API key 'dash' was revoked at ")

    events = await client.data(EVENTS, {"filter": {"keyNames": ["dash"]}}, token=admin)
    by_admin = {"actor": "admin-ann", "clientAddress": "127.0.0.1", "apiKey": {"name": "dash"}}
    assert events["apiKeyEvents"] == {
        "totalCount": 4,
        "nodes": [
            {
                "kind": "REVOKED",
                **by_admin,
                "scope": None,
                "expiresAt": None,
                "rateLimitBefore": None,
                "rateLimitAfter": None,
            },
            {
                "kind": "RATE_LIMIT_CHANGED",
                **by_admin,
                "scope": None,
                "expiresAt": None,
                "rateLimitBefore": 900,
                "rateLimitAfter": None,
            },
            {
                "kind": "RATE_LIMIT_CHANGED",
                **by_admin,
                "scope": None,
                "expiresAt": None,
                "rateLimitBefore": None,
                "rateLimitAfter": 900,
            },
            {
                "kind": "CREATED",
                **by_admin,
                "scope": "READ",
                "expiresAt": None,
                "rateLimitBefore": None,
                "rateLimitAfter": None,
            },
        ],
    }
    kinds = await client.data(EVENTS, {"filter": {"kinds": ["CREATED"]}}, token=admin)
    assert [n["apiKey"]["name"] for n in kinds["apiKeyEvents"]["nodes"]] == ["dash", "admin-ann"]


async def test_keys_are_listed_by_status(
    session: RequestSession, client: GraphQLClient, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    await client.data(
        CREATE, {"input": {"name": "temp", "scope": "READ", "expiresAt": soon.isoformat()}}, token=admin
    )
    await client.data(CREATE, {"input": {"name": "old", "scope": "WRITE"}}, token=admin)
    await client.data(REVOKE, {"name": "old"}, token=admin)
    later = datetime.now(UTC) + timedelta(hours=2)
    monkeypatch.setattr(clock, "now", lambda: later)

    async def names(*statuses: str) -> list[tuple[str, str]]:
        data = await client.data(API_KEYS, {"filter": {"statuses": list(statuses)}}, token=admin)
        return [(n["name"], n["status"]) for n in data["apiKeys"]["nodes"]]

    assert await names("ACTIVE") == [("admin-ann", "ACTIVE")]
    assert await names("EXPIRED") == [("temp", "EXPIRED")]
    assert await names("REVOKED") == [("old", "REVOKED")]
    assert await names("EXPIRED", "REVOKED") == [("old", "REVOKED"), ("temp", "EXPIRED")]
    assert await names() == []
    scoped = await client.data(API_KEYS, {"filter": {"scopes": ["WRITE", "ADMIN"]}}, token=admin)
    assert [n["name"] for n in scoped["apiKeys"]["nodes"]] == ["admin-ann", "old"]
    assert await client.data(API_KEY, {"name": "temp"}, token=admin) == {
        "apiKey": {
            "name": "temp",
            "prefix": (await client.data(API_KEY, {"name": "temp"}, token=admin))["apiKey"]["prefix"],
            "scope": "READ",
            "status": "EXPIRED",
            "expiresAt": soon.isoformat(),
            "revokedAt": None,
            "rateLimit": None,
            "effectiveRateLimit": 200_000,
            "rateLimitWindowSeconds": 60,
        }
    }
    assert await client.data(API_KEY, {"name": "nobody"}, token=admin) == {"apiKey": None}


BAD_INPUTS = [
    (CREATE, {"input": {"name": "bad name", "scope": "READ"}}, "BAD_USER_INPUT", "name"),
    (CREATE, {"input": {"name": "nul\u0000", "scope": "READ"}}, "BAD_USER_INPUT", "createApiKey.input.name"),
    (CREATE, {"input": {"name": "anonymous", "scope": "READ"}}, "BAD_USER_INPUT", "name"),
    (CREATE, {"input": {"name": "admin-ann", "scope": "READ"}}, "CONFLICT", "name"),
    (
        CREATE,
        {"input": {"name": "late", "scope": "READ", "expiresAt": "2001-01-01T00:00:00Z"}},
        "BAD_USER_INPUT",
        "expiresAt",
    ),
    (
        CREATE,
        {"input": {"name": "naive", "scope": "READ", "expiresAt": "2099-01-01T00:00:00"}},
        "BAD_USER_INPUT",
        "expiresAt",
    ),
    (CREATE, {"input": {"name": "broke", "scope": "READ", "rateLimit": 0}}, "BAD_USER_INPUT", "rateLimit"),
    (REVOKE, {"name": "nobody"}, "NOT_FOUND", "name"),
    (REVOKE, {"name": "nul\u0000"}, "BAD_USER_INPUT", "revokeApiKey.name"),
    (API_KEY, {"name": "nul\u0000"}, "BAD_USER_INPUT", "apiKey.name"),
    (SET_LIMIT, {"name": "admin-ann", "limit": -1}, "BAD_USER_INPUT", "rateLimit"),
    (SET_LIMIT, {"name": "nobody", "limit": 10}, "NOT_FOUND", "name"),
    ('mutation { setApiKeyRateLimit(name: "admin-ann") { name } }', {}, "BAD_USER_INPUT", "rateLimit"),
    (EVENTS, {"filter": {"occurredAfter": "2030-01-01T00:00:00"}}, "BAD_USER_INPUT", "filter.occurredAfter"),
    (EVENTS, {"filter": {"keyNames": ["k"] * 101}}, "BAD_USER_INPUT", "apiKeyEvents.filter.keyNames"),
]


@pytest.mark.parametrize(("query", "variables", "code", "field"), BAD_INPUTS)
async def test_bad_input_is_a_typed_error_and_changes_nothing(
    session: RequestSession,
    client: GraphQLClient,
    admin: str,
    query: str,
    variables: dict[str, Any],
    code: str,
    field: str,
) -> None:
    await client.data(API_KEYS, token=admin)  # the admin's own use is recorded before we count
    before = await counts(session)
    body = await client.execute(query, variables, token=admin)
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in body["errors"]] == [
        (code, field)
    ]
    assert body.get("data") is None  # refused at the boundary (no data) or by the resolver (null)
    assert await counts(session) == before


async def test_events_of_unknown_keys_are_empty(client: GraphQLClient, admin: str) -> None:
    data = await client.data(EVENTS, {"filter": {"keyNames": ["nobody"]}}, token=admin)
    assert data == {"apiKeyEvents": {"totalCount": 0, "nodes": []}}


async def test_listing_events_costs_the_same_statements_for_3_and_30_keys(
    session: RequestSession, client: GraphQLClient, admin: str, statements: StatementCounter
) -> None:
    async def cost() -> int:
        await client.data(API_KEYS, token=admin)  # the admin's use is recorded before counting
        statements.reset()
        data = await client.data(EVENTS, {"filter": {"kinds": ["CREATED"]}}, token=admin)
        assert all(node["apiKey"]["name"] for node in data["apiKeyEvents"]["nodes"])
        return statements.count

    for index in range(2):
        await create_key(session, f"fleet-{index}", ApiKeyScope.READ)
    with_3 = await cost()
    for index in range(2, 29):
        await create_key(session, f"fleet-{index}", ApiKeyScope.READ)
    assert await cost() == with_3


async def test_key_ids_do_not_resolve_through_node(client: GraphQLClient, admin: str) -> None:
    # `node(id:)` has no scope check, so admin-only objects must not be reachable through it.
    listed = await client.data(
        "{ apiKeys { nodes { id } } apiKeyEvents(first: 1) { nodes { id } } }", token=admin
    )
    ids = [listed["apiKeys"]["nodes"][0]["id"], listed["apiKeyEvents"]["nodes"][0]["id"]]
    for token in (admin, None):
        for global_id in ids:
            body = await client.execute(
                "query($id: ID!) { node(id: $id) { id } }", {"id": global_id}, token=token
            )
            assert body.get("data") in (None, {"node": None})
            assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_ID"]
