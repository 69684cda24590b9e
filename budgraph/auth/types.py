"""GraphQL types of API keys and their audit (admin scope; never a secret or its hash)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from budgraph import db
from budgraph.auth.keys import KeyStatus, status_of
from budgraph.auth.loaders import ApiKeyByIdLoader
from budgraph.db.auth import ApiKeyEventKind
from budgraph.db.enums import ApiKeyScope
from budgraph.graphql import common  # noqa: F401  (registers ApiKeyScope with its description)
from budgraph.graphql.context import Info
from budgraph.kit import clock
from budgraph.kit.db import AnyRow
from budgraph.kit.ids import to_global_id
from budgraph.settings import Settings

strawberry.enum(
    KeyStatus,
    name="ApiKeyStatus",
    description="Whether an API key can be used now: active, expired, or revoked.",
)
strawberry.enum(
    ApiKeyEventKind,
    description="What happened to an API key: created, revoked, used (recorded at most once a minute"
    " per key), or its rate-limit budget changed.",
)


@strawberry.type(description="An API key as an admin sees it (never its secret, nor the secret's hash).")
class ApiKey:
    id: strawberry.ID = strawberry.field(
        description="The key's opaque id (keys are admin-only, so `node(id:)` does not resolve it)."
    )
    name: str = strawberry.field(description="The key's unique name; the change log names it as actor.")
    prefix: str = strawberry.field(
        description="The public part of the key (`bgk_<prefix>_<secret>`): tells which key a caller holds."
    )
    scope: ApiKeyScope = strawberry.field(description="What the key may do.")
    status: KeyStatus = strawberry.field(description="Whether the key can be used now.")
    created_at: datetime = strawberry.field(description="When the key was created.")
    expires_at: datetime | None = strawberry.field(description="When the key stops working; null: never.")
    revoked_at: datetime | None = strawberry.field(description="When the key was revoked.")
    last_used_at: datetime | None = strawberry.field(
        description="When the key was last used, to within a minute (written at most once a minute)."
    )
    rate_limit: int | None = strawberry.field(
        description="The key's own query-cost budget per rate-limit window; null: the default key budget."
    )
    effective_rate_limit: int = strawberry.field(
        description="The query-cost budget per window that applies to the key: its own, or the default."
    )
    rate_limit_window_seconds: int = strawberry.field(description="The length of a rate-limit window.")

    @classmethod
    def from_row(cls, row: db.ApiKey | AnyRow, settings: Settings) -> ApiKey:
        return cls(
            id=strawberry.ID(to_global_id("ApiKey", row.id)),
            name=row.name,
            prefix=row.prefix,
            scope=ApiKeyScope(row.scope),
            status=status_of(row.revoked_at, row.expires_at, clock.now()),
            created_at=row.created_at,
            expires_at=row.expires_at,
            revoked_at=row.revoked_at,
            last_used_at=row.last_used_at,
            rate_limit=row.rate_limit,
            effective_rate_limit=row.rate_limit or settings.rate_limit_key_budget,
            rate_limit_window_seconds=settings.rate_limit_window_seconds,
        )


@strawberry.type(description="A new API key and its secret, which is shown this once and never again.")
class CreatedApiKey:
    api_key: ApiKey = strawberry.field(description="The key.")
    secret: str = strawberry.field(
        description="The whole key, to send as `Authorization: Bearer <secret>`; only its hash is stored."
    )


@strawberry.type(
    description="One event of the audit of API keys: what happened, who did it, when, from where."
)
class ApiKeyEvent:
    key_pk: strawberry.Private[int]
    id: strawberry.ID = strawberry.field(
        description="The event's opaque id (admin-only, so `node(id:)` does not resolve it)."
    )
    kind: ApiKeyEventKind = strawberry.field(description="What happened.")
    actor: str = strawberry.field(
        description="Who did it: an admin key's name, `cli:<user>`, or (for USED) the key itself."
    )
    client_address: str | None = strawberry.field(description="The client's address, when known.")
    occurred_at: datetime = strawberry.field(description="When it happened.")
    scope: ApiKeyScope | None = strawberry.field(description="CREATED: the scope the key was given.")
    expires_at: datetime | None = strawberry.field(description="CREATED: the expiry the key was given.")
    rate_limit_before: int | None = strawberry.field(
        description="RATE_LIMIT_CHANGED: the key's own budget before (null: the default)."
    )
    rate_limit_after: int | None = strawberry.field(
        description="CREATED, RATE_LIMIT_CHANGED: the key's own budget after (null: the default)."
    )

    @classmethod
    def from_row(cls, row: db.ApiKeyEvent | AnyRow) -> ApiKeyEvent:
        detail = row.detail
        created = row.kind == ApiKeyEventKind.CREATED.value
        expires_at = detail.get("expiresAt") if created else None
        return cls(
            id=strawberry.ID(to_global_id("ApiKeyEvent", row.id)),
            key_pk=row.api_key_id,
            kind=ApiKeyEventKind(row.kind),
            actor=row.actor,
            client_address=row.client_address,
            occurred_at=row.occurred_at,
            scope=ApiKeyScope(detail["scope"]) if created and detail.get("scope") else None,
            expires_at=datetime.fromisoformat(expires_at) if isinstance(expires_at, str) else None,
            rate_limit_before=detail.get("before"),
            rate_limit_after=detail.get("rateLimit") if created else detail.get("after"),
        )

    @strawberry.field(description="The key it happened to.")
    async def api_key(self, info: Info) -> ApiKey:
        row = await info.context.loaders.get(ApiKeyByIdLoader).load(self.key_pk)
        assert row is not None  # events are deleted with their key
        return ApiKey.from_row(row, info.context.settings)


@strawberry.input(description="Which API keys to list; all given conditions must hold.")
class ApiKeyFilter:
    statuses: list[KeyStatus] | None = strawberry.field(
        default=None, description="Only keys in these states."
    )
    scopes: list[ApiKeyScope] | None = strawberry.field(
        default=None, description="Only keys with these scopes."
    )


@strawberry.input(description="Which key events to list; all given conditions must hold.")
class ApiKeyEventFilter:
    key_names: list[str] | None = strawberry.field(default=None, description="Only events of these keys.")
    kinds: list[ApiKeyEventKind] | None = strawberry.field(default=None, description="Only these kinds.")
    occurred_after: datetime | None = strawberry.field(
        default=None, description="Only events after this moment (with a time zone)."
    )
    occurred_before: datetime | None = strawberry.field(
        default=None, description="Only events before this moment (with a time zone)."
    )


@strawberry.input(description="A new API key.")
class CreateApiKeyInput:
    name: str = strawberry.field(
        description="A unique name: 1-100 letters, digits, `.`, `_`, `@`, `-` (the change log's actor)."
    )
    scope: ApiKeyScope = strawberry.field(description="What the key may do: read < write < admin.")
    expires_at: datetime | None = strawberry.field(
        default=None, description="When the key stops working (in the future, with a time zone); null: never."
    )
    rate_limit: int | None = strawberry.field(
        default=None,
        description="The key's own query-cost budget per rate-limit window (>= 1); null: the default.",
    )
