"""Rules for writing providers and their models."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.utils.str_converters import to_camel_case

from budgraph import db
from budgraph.kit.creates import create_once
from budgraph.kit.decimals import checked_amount
from budgraph.kit.edits import apply_operator_edit
from budgraph.kit.errors import BudgraphError, NotFound
from budgraph.kit.writes import checked_url, flush, required_text
from budgraph.providers import repository
from budgraph.providers.tiers import PriceTier, checked_tiers

SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]*")
PRICE_COLUMNS = (
    "input_per_million",
    "output_per_million",
    "cache_read_per_million",
    "cache_write_per_million",
    "price_per_query",
)
TOKEN_COLUMNS = ("max_input_tokens", "max_output_tokens")


def is_deprecated(deprecation_date: date | None, on: date) -> bool:
    return deprecation_date is not None and deprecation_date <= on


@dataclass(frozen=True)
class NewProviderModel:
    provider_id: int
    model_id: str
    mode: str
    input_per_million: Decimal | None = None
    output_per_million: Decimal | None = None
    cache_read_per_million: Decimal | None = None
    cache_write_per_million: Decimal | None = None
    price_per_query: Decimal | None = None
    price_tiers: list[PriceTier] = field(default_factory=list)
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_function_calling: bool = False
    supports_vision: bool = False
    supports_reasoning: bool = False
    supports_prompt_caching: bool = False
    supports_response_schema: bool = False
    deprecation_date: date | None = None


def _checked_slug(slug: str) -> str:
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise BudgraphError(
            f"`slug` must be lower-case letters, digits, `_`, `.` or `-`, starting with a letter or digit"
            f" (got {slug!r})",
            field="slug",
        )
    return slug


def _checked_provider_values(values: dict[str, Any]) -> dict[str, Any]:
    if "name" in values:
        values["name"] = required_text(values["name"], "name")
    if "homepage_url" in values:
        values["homepage_url"] = checked_url(values["homepage_url"], "homepageUrl")
    return values


def _checked_model_values(values: dict[str, Any]) -> dict[str, Any]:
    if "model_id" in values:
        values["model_id"] = required_text(values["model_id"], "modelId")
    for name in PRICE_COLUMNS:
        if name in values:
            values[name] = checked_amount(values[name], getattr(db.ProviderModel, name), to_camel_case(name))
    if "price_tiers" in values:
        values["price_tiers"] = checked_tiers(values["price_tiers"] or [])
    for name in TOKEN_COLUMNS:
        if values.get(name) is not None and values[name] <= 0:
            raise BudgraphError(
                f"`{to_camel_case(name)}` must be positive (got {values[name]})", field=to_camel_case(name)
            )
    return values


async def create_provider(
    session: AsyncSession, slug: str, name: str, kind: str, homepage_url: str | None
) -> db.Provider:
    """A new provider; an identical repeat answers the existing one."""
    slug = _checked_slug(slug)
    values = _checked_provider_values({"name": name, "kind": kind, "homepage_url": homepage_url})
    row, _ = await create_once(
        session,
        db.Provider,
        {"slug": slug},
        values,
        f"a provider with slug {slug!r}",
        lambda: repository.provider_by_slug(session, slug),
    )
    return row


async def update_provider(session: AsyncSession, row: db.Provider, changes: dict[str, Any]) -> db.Provider:
    apply_operator_edit(row, _checked_provider_values(changes))
    await flush(session, f"provider {row.slug!r}")
    return row


async def create_model(session: AsyncSession, new: NewProviderModel) -> db.ProviderModel:
    """A new provider model; an identical repeat answers the existing one."""
    values = _checked_model_values(
        {name: getattr(new, name) for name in NewProviderModel.__dataclass_fields__}
    )
    provider = await session.get(db.Provider, new.provider_id)
    if provider is None:
        raise NotFound("no provider with that id", field="providerId")
    key = {"provider_id": values.pop("provider_id"), "model_id": values.pop("model_id")}
    row, _ = await create_once(
        session,
        db.ProviderModel,
        key,
        values,
        f"{provider.slug} model {key['model_id']!r}",
        lambda: repository.provider_model_by_natural_key(session, provider.id, key["model_id"]),
    )
    return row


async def update_model(
    session: AsyncSession, row: db.ProviderModel, changes: dict[str, Any]
) -> db.ProviderModel:
    apply_operator_edit(row, _checked_model_values(changes))
    await flush(session, f"provider model {row.model_id!r}")
    return row
