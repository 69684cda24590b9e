"""API keys against the real database: expiry, revocation, constant-time comparison, the
throttled record of use, and the audit of key events."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select

from budgraph import db
from budgraph.auth import keys
from budgraph.auth.service import (
    authenticate,
    create_key,
    issue_key,
    revoke,
    revoke_key,
    set_rate_limit,
)
from budgraph.db.enums import ApiKeyScope
from budgraph.kit import clock
from budgraph.kit.db import RequestSession
from budgraph.kit.errors import BudgraphError, ErrorCode, Unauthenticated
from budgraph.settings import Settings
from tests.conftest import live_key
from tests.live import LiveServer, plain_dsn

T0 = datetime(2031, 3, 4, 5, 6, 7, tzinfo=UTC)


class Moment:
    """The registry's clock, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(clock, "now", lambda: self.now)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def moment(monkeypatch: pytest.MonkeyPatch) -> Moment:
    return Moment(monkeypatch)


async def events(
    session: RequestSession, name: str
) -> list[tuple[str, str, str | None, datetime, dict[str, Any]]]:
    rows = await session.execute(
        select(
            db.ApiKeyEvent.kind,
            db.ApiKeyEvent.actor,
            db.ApiKeyEvent.client_address,
            db.ApiKeyEvent.occurred_at,
            db.ApiKeyEvent.detail,
        )
        .join(db.ApiKey, db.ApiKey.id == db.ApiKeyEvent.api_key_id)
        .where(db.ApiKey.name == name)
        .order_by(db.ApiKeyEvent.id)
    )
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]


async def key_row(session: RequestSession, name: str) -> db.ApiKey:
    row = await session.scalar(
        select(db.ApiKey).where(db.ApiKey.name == name).execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def key_count(session: RequestSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(db.ApiKey)) or 0)


async def refusal(session: RequestSession, token: str) -> str:
    with pytest.raises(Unauthenticated) as refused:
        await authenticate(session, f"Bearer {token}")
    return refused.value.message


async def test_an_expired_key_is_refused_and_says_so(session: RequestSession, moment: Moment) -> None:
    token = await create_key(session, "short-lived", ApiKeyScope.READ, expires_at=T0 + timedelta(days=90))
    moment.advance(days=89, hours=23)
    principal = await authenticate(session, f"Bearer {token}")
    assert principal == keys.Principal(key_name="short-lived", scope=ApiKeyScope.READ)
    moment.advance(hours=1)
    assert await refusal(session, token) == "the API key 'short-lived' expired at 2031-06-02T05:06:07+00:00"


async def test_a_revoked_key_is_refused_and_says_so(session: RequestSession, moment: Moment) -> None:
    token = await create_key(session, "gone", ApiKeyScope.WRITE, expires_at=T0 + timedelta(days=1))
    moment.advance(minutes=5)
    assert await revoke_key(session, "gone", actor="admin-ann") is True
    moment.advance(days=2)  # revoked and expired: revoked is what happened first and for good
    assert await refusal(session, token) == "the API key 'gone' was revoked at 2031-03-04T05:11:07+00:00"


async def test_unknown_and_malformed_keys_say_only_unknown(session: RequestSession) -> None:
    token = await create_key(session, "real", ApiKeyScope.READ)
    prefix = keys.split_key(token)
    assert prefix is not None
    for guess in [
        f"bgk_{prefix}_" + "A" * 43,  # a real prefix, a wrong secret
        "bgk_0123456789ab_" + "A" * 43,  # a prefix no key has
        token + "x",
        "bgk_nope_nope",
        "bgk_\x00_" + "A" * 43,
        "not-a-key",
    ]:
        assert await refusal(session, guess) == "the API key is unknown"


async def test_every_check_is_one_constant_time_comparison(
    session: RequestSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = await create_key(session, "timed", ApiKeyScope.READ)
    prefix = keys.split_key(token)
    compared: list[tuple[str, str]] = []
    real: Callable[[str, str], bool] = hmac.compare_digest

    def counting(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", counting)
    for guess in ["bgk_0123456789ab_" + "A" * 43, f"bgk_{prefix}_" + "B" * 43, "garbage"]:
        compared.clear()
        with pytest.raises(Unauthenticated):
            await authenticate(session, f"Bearer {guess}")
        assert len(compared) == 1
        # Both sides are full SHA-256 digests, whether or not a key has the prefix.
        assert [len(side) for side in compared[0]] == [64, 64]
    compared.clear()
    assert await authenticate(session, f"Bearer {token}") is not None
    assert len(compared) == 1


async def test_use_is_written_at_most_once_a_minute(session: RequestSession, moment: Moment) -> None:
    token = await create_key(session, "busy", ApiKeyScope.READ)
    assert (await key_row(session, "busy")).last_used_at is None
    for _ in range(5):
        await authenticate(session, f"Bearer {token}", address="192.0.2.10")
    assert (await key_row(session, "busy")).last_used_at == T0
    moment.advance(seconds=59)
    await authenticate(session, f"Bearer {token}", address="192.0.2.11")
    assert (await key_row(session, "busy")).last_used_at == T0
    moment.advance(seconds=1)
    await authenticate(session, f"Bearer {token}", address="192.0.2.12")
    assert (await key_row(session, "busy")).last_used_at == T0 + timedelta(seconds=60)
    used = [(kind, actor, address, when) for kind, actor, address, when, _ in await events(session, "busy")]
    assert used == [
        ("created", "system", None, T0),
        ("used", "busy", "192.0.2.10", T0),
        ("used", "busy", "192.0.2.12", T0 + timedelta(seconds=60)),
    ]


async def test_key_events_are_audited(session: RequestSession, moment: Moment) -> None:
    await issue_key(
        session,
        "audited",
        ApiKeyScope.WRITE,
        actor="admin-ann",
        address="192.0.2.1",
        expires_at=T0 + timedelta(days=30),
        rate_limit=500,
    )
    moment.advance(minutes=1)
    await set_rate_limit(session, "audited", 900, actor="admin-bob", address="192.0.2.2")
    await set_rate_limit(session, "audited", 900, actor="admin-bob", address="192.0.2.2")  # no change
    moment.advance(minutes=1)
    await set_rate_limit(session, "audited", None, actor="cli:root")
    moment.advance(minutes=1)
    await revoke(session, "audited", actor="admin-ann", address="192.0.2.1")
    await revoke(session, "audited", actor="admin-ann", address="192.0.2.1")  # already revoked
    with pytest.raises(BudgraphError) as conflict:
        await issue_key(session, "audited", ApiKeyScope.READ, actor="admin-bob")
    assert (conflict.value.code, conflict.value.message) == (
        ErrorCode.CONFLICT,
        "an API key named 'audited' already exists",
    )
    assert await events(session, "audited") == [
        (
            "created",
            "admin-ann",
            "192.0.2.1",
            T0,
            {"scope": "write", "expiresAt": "2031-04-03T05:06:07+00:00", "rateLimit": 500},
        ),
        (
            "rate_limit_changed",
            "admin-bob",
            "192.0.2.2",
            T0 + timedelta(minutes=1),
            {"before": 500, "after": 900},
        ),
        ("rate_limit_changed", "cli:root", None, T0 + timedelta(minutes=2), {"before": 900, "after": None}),
        ("revoked", "admin-ann", "192.0.2.1", T0 + timedelta(minutes=3), {}),
    ]


async def test_the_principal_carries_the_key_budget(session: RequestSession) -> None:
    token = await create_key(session, "budgeted", ApiKeyScope.READ, rate_limit=1234)
    principal = await authenticate(session, f"Bearer {token}")
    assert principal == keys.Principal(key_name="budgeted", scope=ApiKeyScope.READ, rate_limit=1234)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "",
            "an API key name is 1-100 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a digit (got '')",
        ),
        (
            "ann smith",
            "an API key name is 1-100 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a digit (got 'ann smith')",
        ),
        (
            "worker:seed",
            "an API key name is 1-100 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a digit (got 'worker:seed')",
        ),
        (
            "nul\x00",
            "an API key name is 1-100 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a digit (got 'nul\\x00')",
        ),
        (
            "x" * 101,
            "an API key name is 1-100 letters, digits, `.`, `_`, `@` or `-`, starting with a letter or a digit (got '"
            + "x" * 101
            + "')",
        ),
        ("Anonymous", "'Anonymous' is a name the registry uses for itself; choose another"),
        ("seed", "'seed' is a name the registry uses for itself; choose another"),
    ],
)
async def test_names_are_checked(session: RequestSession, name: str, message: str) -> None:
    before = await key_count(session)
    with pytest.raises(BudgraphError) as refused:
        await create_key(session, name, ApiKeyScope.READ)
    assert (refused.value.code, refused.value.message, refused.value.extensions.get("field")) == (
        ErrorCode.BAD_USER_INPUT,
        message,
        "name",
    )
    assert await key_count(session) == before


@pytest.mark.parametrize(
    ("expires_at", "rate_limit", "field", "message"),
    [
        (T0, None, "expiresAt", "the expiry 2031-03-04T05:06:07+00:00 is not in the future"),
        (
            datetime(2040, 1, 1),
            None,
            "expiresAt",
            "an expiry needs a time zone (e.g. `2030-01-01T00:00:00Z`)",
        ),
        (
            None,
            0,
            "rateLimit",
            "a rate limit is a query-cost budget per window from 1 to 2147483647 (got 0)",
        ),
        (
            None,
            2**31,
            "rateLimit",
            "a rate limit is a query-cost budget per window from 1 to 2147483647 (got 2147483648)",
        ),
    ],
)
async def test_expiry_and_budget_are_checked(
    session: RequestSession,
    moment: Moment,
    expires_at: datetime | None,
    rate_limit: int | None,
    field: str,
    message: str,
) -> None:
    before = await key_count(session)
    with pytest.raises(BudgraphError) as refused:
        await create_key(session, "checked", ApiKeyScope.READ, expires_at=expires_at, rate_limit=rate_limit)
    assert (refused.value.message, refused.value.extensions.get("field")) == (message, field)
    assert await key_count(session) == before


async def test_a_revoked_key_keeps_its_budget(session: RequestSession) -> None:
    await create_key(session, "retired", ApiKeyScope.READ)
    await revoke_key(session, "retired")
    with pytest.raises(BudgraphError) as refused:
        await set_rate_limit(session, "retired", 10, actor="admin")
    assert refused.value.message == "the API key 'retired' is revoked; its budget no longer matters"
    with pytest.raises(BudgraphError) as missing:
        await set_rate_limit(session, "nobody\x00", 10, actor="admin")
    assert (missing.value.code, missing.value.message) == (
        ErrorCode.NOT_FOUND,
        "no API key named 'nobody\\x00'",
    )


async def test_concurrent_requests_with_one_key_record_one_use(
    live: LiveServer, live_settings: Settings, live_url: str
) -> None:
    token = await live_key(live_url, "crowd", ApiKeyScope.READ)
    async with httpx.AsyncClient(base_url=live.http, timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(
                    "/graphql",
                    json={"query": "{ registryVersion }"},
                    headers={"Authorization": f"Bearer {token}"},
                )
                for _ in range(30)
            )
        )
    assert [r.status_code for r in responses] == [200] * 30
    connection = await asyncpg.connect(plain_dsn(live_url))
    try:
        kinds = await connection.fetch(
            "SELECT e.kind FROM api_key_event e JOIN api_key k ON k.id = e.api_key_id WHERE k.name = 'crowd' ORDER BY e.id"
        )
        last_used = await connection.fetchval("SELECT last_used_at FROM api_key WHERE name = 'crowd'")
    finally:
        await connection.close()
    assert [row["kind"] for row in kinds] == ["created", "used"]
    assert last_used is not None
