"""SQL for providers and the cloud models they serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from budgraph import db
from budgraph.kit.search import escape_like


@dataclass(frozen=True)
class ProviderQuery:
    search: str | None = None
    kinds: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ProviderModelQuery:
    search: str | None = None
    provider_slugs: tuple[str, ...] | None = None
    modes: tuple[str, ...] | None = None
    min_input_per_million: Decimal | None = None
    max_input_per_million: Decimal | None = None
    min_output_per_million: Decimal | None = None
    max_output_per_million: Decimal | None = None
    min_context: int | None = None
    supports_function_calling: bool | None = None
    supports_vision: bool | None = None
    supports_reasoning: bool | None = None
    # Set to leave out models deprecated on or before this date.
    deprecated_by: date | None = None


PROVIDER_ORDER_COLUMNS = {
    "slug": db.Provider.slug,
    "name": db.Provider.name,
    "created_at": db.Provider.created_at,
}

MODEL_ORDER_COLUMNS = {
    "model_id": db.ProviderModel.model_id,
    "input_price": db.ProviderModel.input_per_million,
    "output_price": db.ProviderModel.output_per_million,
    "context": db.ProviderModel.max_input_tokens,
}


def provider_order(field: str, direction: str) -> list[ColumnElement[Any]]:
    column = PROVIDER_ORDER_COLUMNS[field]
    return [column.desc() if direction == "desc" else column.asc(), db.Provider.id.asc()]


def model_order(field: str, direction: str) -> list[ColumnElement[Any]]:
    """Unknown values (no price, no limit) sort last either way; ties by model id."""
    column = MODEL_ORDER_COLUMNS[field]
    primary = column.desc().nulls_last() if direction == "desc" else column.asc().nulls_last()
    return [primary, db.ProviderModel.model_id.asc(), db.ProviderModel.id.asc()]


def providers_statement(query: ProviderQuery, order: tuple[str, str]) -> Select[Any]:
    """Providers, filtered and in ``order`` (field, direction)."""
    return _providers(query).order_by(*provider_order(*order))


def _providers(query: ProviderQuery) -> Select[Any]:
    stmt = select(db.Provider)
    if query.search:
        pattern = f"%{escape_like(query.search)}%"
        stmt = stmt.where(db.Provider.name.ilike(pattern) | db.Provider.slug.ilike(pattern))
    if query.kinds is not None:
        stmt = stmt.where(db.Provider.kind.in_(query.kinds))
    return stmt


def provider_models_statement(query: ProviderModelQuery, order: tuple[str, str]) -> Select[Any]:
    """Provider models, filtered and in ``order`` (field, direction)."""
    return _provider_models(query).order_by(*model_order(*order))


def _provider_models(query: ProviderModelQuery) -> Select[Any]:
    model = db.ProviderModel
    stmt = select(model)
    if query.search:
        stmt = stmt.where(model.model_id.ilike(f"%{escape_like(query.search)}%"))
    if query.provider_slugs is not None:
        stmt = stmt.where(
            model.provider_id.in_(select(db.Provider.id).where(db.Provider.slug.in_(query.provider_slugs)))
        )
    if query.modes is not None:
        stmt = stmt.where(model.mode.in_(query.modes))
    if query.min_input_per_million is not None:
        stmt = stmt.where(model.input_per_million >= query.min_input_per_million)
    if query.min_output_per_million is not None:
        stmt = stmt.where(model.output_per_million >= query.min_output_per_million)
    if query.max_input_per_million is not None:
        stmt = stmt.where(model.input_per_million <= query.max_input_per_million)
    if query.max_output_per_million is not None:
        stmt = stmt.where(model.output_per_million <= query.max_output_per_million)
    if query.min_context is not None:
        stmt = stmt.where(model.max_input_tokens >= query.min_context)
    for column, wanted in (
        (model.supports_function_calling, query.supports_function_calling),
        (model.supports_vision, query.supports_vision),
        (model.supports_reasoning, query.supports_reasoning),
    ):
        if wanted is not None:
            stmt = stmt.where(column.is_(wanted))
    if query.deprecated_by is not None:
        stmt = stmt.where(model.deprecation_date.is_(None) | (model.deprecation_date > query.deprecated_by))
    return stmt


async def provider_by_slug(session: AsyncSession, slug: str) -> db.Provider | None:
    result: db.Provider | None = await session.scalar(select(db.Provider).where(db.Provider.slug == slug))
    return result


async def provider_model_by_natural_key(
    session: AsyncSession, provider_id: int, model_id: str
) -> db.ProviderModel | None:
    result: db.ProviderModel | None = await session.scalar(
        select(db.ProviderModel).where(
            db.ProviderModel.provider_id == provider_id, db.ProviderModel.model_id == model_id
        )
    )
    return result


async def models_of_provider(session: AsyncSession, provider_id: int) -> list[db.ProviderModel]:
    rows = await session.scalars(
        select(db.ProviderModel)
        .where(db.ProviderModel.provider_id == provider_id)
        .order_by(db.ProviderModel.id)
    )
    return list(rows.all())


async def hardware_prices_at(session: AsyncSession, provider_id: int) -> list[str]:
    """``sku region instance (as of)`` of each hardware price at a provider."""
    price = db.HardwarePrice
    rows = await session.execute(
        select(db.Hardware.sku, price.region, price.instance_type, price.as_of)
        .join(db.Hardware, db.Hardware.id == price.hardware_id)
        .where(price.provider_id == provider_id)
        .order_by(db.Hardware.sku, price.region, price.instance_type, price.as_of)
    )
    return [f"{sku} {region} {instance} ({as_of})" for sku, region, instance, as_of in rows.all()]
